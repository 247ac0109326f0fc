"""`pavilion admin list-users` and `pavilion admin set-password` (issue 15 item 8): the new password logs in."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from pavilion.cli import main
from pavilion.runtime.accounts import check_login
from pavilion.runtime.db import Database, make_engine


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PAVILION_DATABASE_URL", "PAVILION_SECRET_KEY", "PAVILION_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAVILION_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_list_users_then_set_a_password(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["admin", "create-user", "alice", "--password-stdin"], "first password\n", monkeypatch) == 0
    assert _run(["admin", "create-user", "bob", "--password-stdin"], "bobs password\n", monkeypatch) == 0
    assert main(["admin", "create-token", "bob"]) == 0
    capsys.readouterr()
    assert main(["admin", "list-users"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "user", "created_at", "active_tokens"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], r[1], r[3]) for r in rows] == [("1", "alice", "0"), ("2", "bob", "1")]
    assert "password" not in "\n".join(lines[1:])

    assert _run(["admin", "set-password", "alice", "--password-stdin"], "second password\n", monkeypatch) == 0
    assert "changed the password of 'alice'" in capsys.readouterr().out
    db = Database(make_engine(f"sqlite:///{instance / 'pavilion.sqlite'}"))
    try:
        assert check_login(db, "alice", "second password") is not None
        assert check_login(db, "alice", "first password") is None
        assert check_login(db, "bob", "bobs password") is not None  # only alice changed
    finally:
        db.dispose()


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["admin", "set-password", "nobody", "--password-stdin"], "a long password\n", "no user 'nobody'"),
    (["admin", "set-password", "alice", "--password-stdin"], "short\n", "at least 8 characters"),
])
def test_set_password_errors_are_one_line_and_exit_2(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], stdin: str, message: str,
) -> None:
    assert _run(["admin", "create-user", "alice", "--password-stdin"], "first password\n", monkeypatch) == 0
    capsys.readouterr()
    assert _run(argv, stdin, monkeypatch) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
