"""`pavilion db upgrade`, `pavilion admin create-user|create-token` and `pavilion serve` (a real gevent server)."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pavilion.cli import main
from pavilion.runtime import migrate
from pavilion.runtime.accounts import admin_for_token, check_login
from pavilion.runtime.config import utc_now
from pavilion.runtime.db import Database, make_engine


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PAVILION_DATABASE_URL", "PAVILION_SECRET_KEY", "PAVILION_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAVILION_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_db_upgrade_then_users_and_tokens(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    db = Database(make_engine(f"sqlite:///{instance / 'pavilion.sqlite'}"))
    assert migrate.current(db.engine) == migrate.head(db.engine)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert main(["admin", "create-user", "alice", "--password-stdin"]) == 0
    assert check_login(db, "alice", "a long password") is not None
    assert check_login(db, "alice", "wrong") is None
    capsys.readouterr()
    assert main(["admin", "create-token", "alice"]) == 0
    token = capsys.readouterr().out.strip()
    assert admin_for_token(db, token, utc_now) is not None
    db.dispose()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["admin", "create-user", "bad name!", "--password-stdin"], "a long password\n", "username"),
        (["admin", "create-user", "bob", "--password-stdin"], "short\n", "at least 8 characters"),
        (["admin", "create-token", "nobody"], "", "no user 'nobody'"),
        (["serve", "--platform", "ebay"], "", "--platform must be one of"),  # refused before gevent patches
        (["serve", "--port", "70000"], "", "--port must be between"),
    ],
)
def test_bad_input_is_one_line(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv, stdin, message
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pavilion: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", "database error (OperationalError)"),
        ("nosuchdb://x", "database error (NoSuchModuleError)"),
    ],
)
def test_an_unreachable_database_is_one_line(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    monkeypatch.setenv("PAVILION_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pavilion: error: {message}") and err.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)
def test_serve_answers_http(instance: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PAVILION_INSTANCE_PATH": str(instance)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pavilion.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/projects/1", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "server did not start") from None
                time.sleep(0.2)
        assert response.status_code == 401 and "bearer" in response.json()["error"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
