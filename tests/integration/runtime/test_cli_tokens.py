"""`pavilion admin list-tokens` and `pavilion admin revoke-token` (issue 17 item 6): a revoked token is refused."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from pavilion.cli import main
from pavilion.runtime.accounts import admin_for_token
from pavilion.runtime.config import utc_now
from pavilion.runtime.db import Database, make_engine


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PAVILION_DATABASE_URL", "PAVILION_SECRET_KEY", "PAVILION_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAVILION_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def _token(user: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    main(["admin", "create-user", user, "--password-stdin"])
    capsys.readouterr()
    assert main(["admin", "create-token", user]) == 0
    return capsys.readouterr().out.strip()


def test_list_then_revoke_by_prefix_by_id_and_by_user(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _token("alice", capsys, monkeypatch), _token("bob", capsys, monkeypatch)
    third = main(["admin", "create-token", "bob"]) == 0 and capsys.readouterr().out.strip()
    db = Database(make_engine(f"sqlite:///{instance / 'pavilion.sqlite'}"))
    assert main(["admin", "list-tokens"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "user", "prefix", "created_at", "last_used_at", "status"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("1", "alice", first[:6], "active"), ("2", "bob", second[:6], "active"), ("3", "bob", str(third)[:6], "active")]
    assert all(token not in "\n".join(lines) for token in (first, second))  # never the token itself

    assert main(["admin", "revoke-token", "--", first[:6]]) == 0  # "--": a prefix may start with "-"
    assert "revoked 1 token(s): 1" in capsys.readouterr().out
    assert admin_for_token(db, first, utc_now) is None
    assert admin_for_token(db, second, utc_now) is not None
    assert main(["admin", "revoke-token", "--user", "bob"]) == 0
    assert "revoked 2 token(s): 2, 3" in capsys.readouterr().out
    assert admin_for_token(db, second, utc_now) is None
    assert main(["admin", "list-tokens", "bob"]) == 0
    assert [line.split("\t")[5].split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["revoked"] * 2
    db.dispose()


@pytest.mark.parametrize(("argv", "message"), [
    (["admin", "revoke-token"], "one of the two"),
    (["admin", "revoke-token", "99"], "no active token match '99'"),
    (["admin", "revoke-token", "ab"], "at least 4 of its first characters"),
    (["admin", "revoke-token", "--user", "nobody"], "no user 'nobody'"),
])
def test_bad_revocations_are_one_line(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    _token("alice", capsys, monkeypatch)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_revoked_token_is_refused_by_the_api(tmp_path: Path) -> None:
    from pavilion.runtime import create_app
    from pavilion.runtime.accounts import create_admin, create_token, revoke_tokens
    from pavilion.runtime.context import get_runtime

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s", "ENV": "testing"})
    runtime = get_runtime(app)
    create_admin(runtime.db, "alice", "correct horse", runtime.clock)
    token = create_token(runtime.db, "alice", runtime.clock)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/projects/1", headers=headers).status_code == 404  # valid token, no such project
    revoke_tokens(runtime.db, runtime.clock, token=token)
    response = client.get("/api/projects/1", headers=headers)
    assert response.status_code == 401 and response.get_json() == {"error": "invalid or revoked API token"}
    runtime.shutdown()
