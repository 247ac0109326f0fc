"""Each supported server runs a real session: `pavilion serve` on gevent (default) and on eventlet (kept while this
passes), gunicorn -k gevent as the Procfile runs it; the connection cap refuses joins while admin and API answer."""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from pavilion.runtime.db import make_engine

from .conftest import BIN, PYTHON, Api, Server, Worker, admin_token, cli, free_port, join_token

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
REPO = Path(__file__).resolve().parents[3]
PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_") and k not in ("PORT", "DATABASE_URL")}
    env.update({"PAVILION_INSTANCE_PATH": str(instance), "PAVILION_QUEUE_REFRESH_S": "0.2",
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra})
    return env


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One instance folder with an admin token, served by each server in turn (the CLI takes seconds to start)."""
    folder = tmp_path_factory.mktemp("instance")
    return folder, admin_token(_env(folder))


def _command(kind: str, port: int) -> tuple[list[str], dict[str, str]]:
    serve = [PYTHON, "-m", "pavilion.cli", "serve"]
    if kind == "serve-gevent":
        return serve, {"PORT": str(port)}  # no --port: PORT is honoured
    if kind == "serve-eventlet":
        return [*serve, "--port", str(port)], {"PAVILION_ASYNC_MODE": "eventlet"}
    gunicorn = [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{port}"]
    return [*gunicorn, "pavilion.runtime:create_app()"], {}


def _session(base: str, api: Api) -> None:
    """One active place: the first joiner is promoted, the second waits and is promoted when the first submits."""
    project_id = api.project(min_active=1, max_active=1, max_waiting=2)
    first = Worker(join_token(base, project_id)).connect(base)
    second = Worker(join_token(base, project_id)).connect(base)
    try:
        assert first.wait_for("promoted") and second.wait_for("queue")
        assert second.events[-1][1]["queue"] == "waiting"
        first.emit("leave", {"how": "submitted"})
        assert second.wait_for("promoted"), second.events
        counts = api.call("GET", f"/api/projects/{project_id}")["counts"]
        assert counts["present"] == 1
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("kind", ["serve-gevent", "serve-eventlet", "gunicorn-gevent"])
def test_a_session_on_each_server(
    kind: str, instance: tuple[Path, str], tmp_path: Path, servers: list[Server]
) -> None:
    folder, token = instance
    port = free_port()
    cmd, extra = _command(kind, port)
    env = _env(folder, **extra)
    server = Server(cmd, env, port, tmp_path / "server.log")
    servers.append(server)
    server.start()
    _session(server.url, Api(server.url, token))
    mode = "eventlet" if "eventlet" in kind else "gevent"
    assert f"database sqlite:///{folder}/pavilion.sqlite ({mode} mode)" in server.output()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PAVILION_TEST_DATABASE_URL is not set")
    schema = f"pavilion_deploy_{secrets.token_hex(5)}"
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.mark.postgres
def test_the_procfile_as_printed(tmp_path: Path, servers: list[Server], pg_schema: str) -> None:
    """Heroku-style: DATABASE_URL as postgres://, production, the release line, then the web line with PORT."""
    url = PG_URL.replace("postgresql+psycopg://", "postgres://", 1)
    user, _, rest = url.removeprefix("postgres://").partition("@")
    database_url = f"postgres://{user.split(':')[0]}:not-for-the-log@{rest}?options=-csearch_path%3D{pg_schema}"
    port = free_port()
    env = _env(tmp_path / "no-instance-folder", PAVILION_ENV="production", PAVILION_SECRET_KEY=secrets.token_hex(16),
               DATABASE_URL=database_url, PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}")
    lines = dict(line.split(": ", 1) for line in (REPO / "deploy" / "Procfile").read_text().splitlines() if line)
    cli(shlex.split(lines["release"])[1:], env)  # `pavilion db upgrade`
    token = admin_token(env)
    server = Server(["bash", "-c", lines["web"]], env, port, tmp_path / "web.log")
    servers.append(server)
    server.start()
    _session(server.url, Api(server.url, token))
    out = server.output()
    assert "database postgresql+psycopg://postgres:***@" in out and "not-for-the-log" not in out


def test_joins_past_the_cap_are_refused_while_admin_and_api_answer(
    instance: tuple[Path, str], tmp_path: Path, servers: list[Server]
) -> None:
    folder, token = instance
    port = free_port()
    env = _env(folder, PAVILION_MAX_WORKERS_CONNECTED="3")
    server = Server([PYTHON, "-m", "pavilion.cli", "serve", "--port", str(port)], env, port, tmp_path / "s.log")
    servers.append(server)
    server.start()
    api = Api(server.url, token)
    project_id = api.project(min_active=1, max_active=1, max_waiting=10)
    workers = [Worker(join_token(server.url, project_id)).connect(server.url) for _ in range(3)]
    try:
        full = httpx.get(f"{server.url}/join/{project_id}", timeout=5)
        assert full.status_code == 503 and "This session is full" in full.text and full.headers["Retry-After"]
        task = httpx.get(f"{server.url}/task/{project_id}", params={"worker": "w-late"}, timeout=5)
        assert task.status_code == 503
        assert httpx.get(f"{server.url}/admin/login", timeout=5).status_code == 200
        assert api.call("GET", f"/api/projects/{project_id}")["counts"]["present"] == 3
        workers.pop().close()  # a place frees up: joins are taken again
        for _ in range(50):
            if httpx.get(f"{server.url}/join/{project_id}", timeout=5, follow_redirects=False).status_code != 503:
                break
        else:
            raise AssertionError("joins still refused after a worker left")
    finally:
        for worker in workers:
            worker.close()
