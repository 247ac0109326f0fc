"""The real scale-out set-up: nginx (from deploy/nginx.conf), two `pavilion serve` processes, Redis, PostgreSQL.

36 workers join through nginx, spread over both processes by ip_hash (each client sends its own address in
X-Forwarded-For, which a generated realip line trusts from the loopback, as nginx behind a load balancer would).
Departures arrive at both processes at once, each page waiting for its `leave` to be answered as the page does;
process A, one that holds periodic jobs, is SIGKILLed mid-session (its workers' pages reconnect through nginx by
themselves, as the Socket.IO page does, landing on B) and restarted. Afterwards, from the database, the event log
and the job log: every worker in at most one queue, nobody promoted twice, each departure one event row, each
promoted worker told (also when the other process handled the event), no ledger line twice, no periodic job run
twice within its interval, A's jobs taken over by B.
"""

from __future__ import annotations

import collections
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from pavilion.runtime.db import make_engine
from pavilion.runtime.state import state_from_json
from pavilion.runtime.tokens import WorkerTokens

from .conftest import BIN, PYTHON, TOKEN_META, Api, Server, Worker, admin_token, cli, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(420),  # about 20 s on an idle 2-core machine; minutes when it is shared and busy
]
REPO = Path(__file__).resolve().parents[3]
PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
REDIS = shutil.which("redis-server") or ""
SECRET = secrets.token_hex(16)
JOBS = {"outbox": 2.0, "reconcile": 3.0, "presence": 1.0}  # seconds between runs, as configured below
PER_PROCESS = {"presence-flush"}
ACK_S = 15.0  # a page's `leave` is answered well within this (the page itself waits 5 s, then asks again)


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def schema_url() -> Iterator[tuple[str, Engine]]:
    if not PG_URL:
        pytest.skip("PAVILION_TEST_DATABASE_URL is not set")
    if not NGINX or not REDIS:
        pytest.skip("nginx or redis-server is not installed (make nginx installs nginx)")
    schema = f"pavilion_scale_{secrets.token_hex(5)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis of the test's own (no other test's Socket.IO messages on its channel)."""
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _answers(port), 10, "redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def nginx_config(tmp_path: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with this test's ports, paths in tmp_path, and the client address taken from a header."""
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    conf = re.sub(r"pid [^;]+;", f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log;", conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in upstreams)
    conf = re.sub(r"(        server 127\.0\.0\.1:\d+;\n)+", servers, conf)
    extra = ("    log_format upstreams '$remote_addr $upstream_addr $request_uri';\n"
             f"    access_log {tmp_path}/nginx-access.log upstreams;\n"
             "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;\n"
             + "".join(f"    {kind}_temp_path {tmp_path}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")))
    conf = conf.replace("http {\n", "http {\n" + extra, 1)
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    return path


class Crowd:
    """Workers joining and connecting through nginx, each from its own client address."""

    def __init__(self, base: str, project_id: int) -> None:
        self.base = base
        self.project_id = project_id
        self.workers: dict[str, Worker] = {}  # assignment key -> page
        self.address: dict[str, str] = {}
        self.tokens = WorkerTokens(SECRET, 3600, lambda: datetime.now(UTC))
        self._guard = threading.Lock()

    def join(self, index: int) -> str:
        address = f"127.{index + 1}.0.1"  # ip_hash reads the first three octets: one per worker
        headers = {"X-Forwarded-For": address}
        with httpx.Client(base_url=self.base, follow_redirects=True, timeout=30, headers=headers) as http:
            page = http.get(f"/join/{self.project_id}")
        match = TOKEN_META.search(page.text)
        assert page.status_code == 200 and match is not None, f"join: {page.status_code} {page.text[:200]}"
        token = match.group(1)
        key = self.tokens.verify(token).assignment_key
        worker = Worker(token)
        worker.connect_headers = headers  # type: ignore[attr-defined]
        self.connect(worker)
        with self._guard:
            self.workers[key] = worker
            self.address[key] = address
        return key

    def connect(self, worker: Worker) -> None:
        import socketio

        # As the browser page's Socket.IO client: a dropped socket reconnects (the same token keeps the place).
        worker.client = socketio.Client(reconnection=True, reconnection_delay=0.3, reconnection_delay_max=2,
                                        request_timeout=30)
        for name in ("queue", "promoted", "stop", "rejected", "left", "error", "connect_error", "disconnect"):
            worker.client.on(name, worker._recorder(name), namespace="/worker")
        try:
            worker.client.connect(self.base, namespaces=["/worker"], auth={"token": worker.token},
                                  transports=["websocket"], wait_timeout=30,
                                  headers=worker.connect_headers)  # type: ignore[attr-defined]
        except Exception as exc:
            refusals = [payload for name, payload in worker.events if name == "connect_error"]
            raise AssertionError(f"{worker.token[:40]}: {exc}; refused with {refusals}") from exc

    def send(self, key: str, event: str, payload: object) -> None:
        """Emit from a page once its socket is up and wait for the server's answer, as the page's `leave` does
        (an emit only queues the frame: a process killed right after would take it unread)."""
        worker = self.workers[key]
        _wait(lambda: worker.client.connected and "/worker" in worker.client.namespaces, 30, f"{key} connected")
        try:
            reply = worker.client.call(event, payload, namespace="/worker", timeout=ACK_S)
        except Exception as exc:
            raise AssertionError(f"{key} ({self.address[key]}): {event} not answered in {ACK_S} s ({exc!r}); "
                                 f"page connected {worker.client.connected}, told {worker.events[-4:]}") from exc
        assert isinstance(reply, dict) and reply.get("ok"), f"{key}: {event} refused: {reply}"

    def at_once(self, actions: list[Callable[[], None]]) -> None:
        """Run the actions in threads released together."""
        barrier = threading.Barrier(len(actions))
        errors: list[str] = []

        def run(action: Callable[[], None]) -> None:
            barrier.wait()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - reported below, with the others
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=run, args=(action,)) for action in actions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors


def _state(engine: Engine, project_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    with engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM projects WHERE id = :p"), {"p": project_id}).scalar_one()
    job = state_from_json(state if isinstance(state, dict) else json.loads(state))
    return job.waiting, job.active


def _upstream_of(tmp_path: Path) -> dict[str, str]:
    """Client address -> the upstream (process) nginx last sent it to (a line is written when a request ends, so
    the join page's requests tell; ip_hash sends the WebSocket that follows to the same process)."""
    seen: dict[str, str] = {}
    for line in (tmp_path / "nginx-access.log").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            seen[parts[0]] = parts[1].split(",")[-1].strip()
    return seen


def test_two_processes_behind_nginx_survive_a_sigkill(
    tmp_path: Path, schema_url: tuple[str, Engine], redis_url: str
) -> None:
    url, engine = schema_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_") and k not in ("PORT", "DATABASE_URL")}
    env.update({"PAVILION_INSTANCE_PATH": str(tmp_path / "instance"), "PAVILION_DATABASE_URL": url,
                "PAVILION_SECRET_KEY": SECRET, "PAVILION_MESSAGE_QUEUE": redis_url,
                "PAVILION_JOB_LOG": str(tmp_path / "jobs.log"), "PAVILION_AUTO_MIGRATE": "false",
                "PAVILION_OUTBOX_RETRY_S": str(JOBS["outbox"]), "PAVILION_RECONCILE_S": str(JOBS["reconcile"]),
                "PAVILION_QUEUE_REFRESH_S": "0.3", "PAVILION_ABANDON_GRACE_S": "20",
                "PAVILION_ASYNC_MODE": os.environ.get("PAVILION_TEST_ASYNC_MODE", "gevent"),
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    (tmp_path / "instance").mkdir()
    cli(["db", "upgrade"], env)
    token = admin_token(env)
    ports = [free_port(), free_port()]
    procs = [Server([PYTHON, "-m", "pavilion.cli", "serve", "--port", str(p)], env, p, tmp_path / f"serve-{i}.log")
             for i, p in enumerate(ports)]
    listen = free_port()
    nginx_cmd = [NGINX, "-p", str(tmp_path), "-c", str(nginx_config(tmp_path, listen, ports)), "-g", "daemon off;"]
    nginx = subprocess.Popen(nginx_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = [threading.Thread(target=server.start, args=(150.0,)) for server in procs]
    try:
        for thread in started:
            thread.start()
        for thread in started:
            thread.join(90)
        base = f"http://127.0.0.1:{listen}"
        _wait(lambda: _answers(listen), 10, "nginx")
        api = Api(base, token)
        project_id = api.project(min_active=6, max_active=10, max_waiting=40)
        crowd = Crowd(base, project_id)
        crowd.at_once([lambda i=i: crowd.join(i) for i in range(32)])  # type: ignore[misc]
        assert len(crowd.workers) == 32
        _wait(lambda: len(_state(engine, project_id)[1]) == 10, 30, "ten active")
        where = _upstream_of(tmp_path)
        on = {port: [k for k, a in crowd.address.items() if where.get(a, "").endswith(f":{port}")] for port in ports}
        assert all(len(keys) >= 4 for keys in on.values()), {p: len(k) for p, k in on.items()}  # spread over both

        left: list[tuple[str, str]] = []  # (key, how) of every departure sent

        def depart(how: str, count_per_process: int, queue_of: Callable[[str], bool], avoid: set[str]) -> None:
            chosen = []
            for port in ports:
                keys = [k for k in on[port] if queue_of(k) and k not in avoid and k not in dict(left)]
                chosen += [(k, how) for k in keys[:count_per_process]]
            left.extend(chosen)
            crowd.at_once([lambda k=k, h=h: crowd.send(k, "leave", {"how": h})  # type: ignore[misc]
                           for k, h in chosen])

        def active(key: str) -> bool:
            return key in _state(engine, project_id)[1]

        def waiting(key: str) -> bool:
            return key in _state(engine, project_id)[0]

        # Round 1: departures at both processes at once (active submit -> promotions; waiting return).
        depart("submitted", 2, active, set())
        depart("returned", 1, waiting, set())
        _wait(lambda: len(_state(engine, project_id)[1]) == 10, 20, "the active queue refilled")

        # Process A dies mid-session; its pages reconnect through nginx (to B), while B's workers leave.
        # A is a process that owns periodic jobs right now (the lock goes to whichever asks first), B the other.
        dead = _owner_index(tmp_path, procs)
        killed, a_port, b_port = procs[dead], ports[dead], ports[1 - dead]
        killed.kill()
        victims = [key for key in on[a_port] if key not in dict(left)]  # pages still open on A
        depart_b = [(k, "submitted") for k in on[b_port] if active(k) and k not in dict(left)][:2]
        left.extend(depart_b)
        crowd.at_once([lambda k=k: crowd.send(k, "leave", {"how": "submitted"})  # type: ignore[misc]
                       for k, _ in depart_b])
        for key in victims:  # reconnected by themselves, through nginx, to B
            _wait(lambda k=key: crowd.workers[k].told("disconnect") >= 1 and crowd.workers[k].client.connected,  # type: ignore[misc]
                  30, "A's pages back on B")
        _wait(lambda: len(_state(engine, project_id)[1]) == 10, 20, "refilled with A down")

        killed.start(150.0)  # restarted on its port; new joiners may land on it again
        crowd.at_once([lambda i=i: crowd.join(i) for i in range(32, 36)])  # type: ignore[misc]
        where = _upstream_of(tmp_path)
        on = {port: [k for k, a in crowd.address.items() if where.get(a, "").endswith(f":{port}")] for port in ports}
        # A's old pages are on B now (the log has only their ended socket to A; the one to B is still open).
        on = {a_port: [k for k in on[a_port] if k not in victims], b_port: [*on[b_port], *victims]}
        depart("submitted", 1, active, set())
        depart("returned", 1, waiting, set())
        _wait(lambda: len(_state(engine, project_id)[1]) == 10, 20, "refilled after the restart")
        time.sleep(2 * max(JOBS.values()))  # let every periodic job run a few more times on both processes
        _wait(lambda: all(len(_job_runs(tmp_path)[name]) >= 3 for name in JOBS), 30, "three runs of every job")

        _check(engine, project_id, crowd, left, tmp_path)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in procs:
            server.stop()


def _lines_of(tmp_path: Path, address: str) -> list[str]:
    lines = (tmp_path / "nginx-access.log").read_text().splitlines()
    return [line for line in lines if line.startswith(address + " ")]


def _owner_index(tmp_path: Path, procs: list[Server]) -> int:
    """Which of the processes ran the latest run of some periodic job (it holds that job's lock)."""
    pids = [server.proc.pid if server.proc is not None else -1 for server in procs]
    _wait(lambda: any(runs for name, runs in _job_runs(tmp_path).items() if name in JOBS), 30, "a periodic job")
    latest = {name: max(runs)[1] for name, runs in _job_runs(tmp_path).items() if name in JOBS and runs}
    owners = [index for index, pid in enumerate(pids) if pid in latest.values()]
    assert owners, f"jobs run by {latest}, not by the servers {pids}"
    return owners[0]


def _job_runs(tmp_path: Path) -> dict[str, list[tuple[float, int]]]:
    """Job name -> (time, pid) of each run, from the job log the processes write."""
    runs: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    for line in (tmp_path / "jobs.log").read_text().splitlines():
        at, name, pid = line.split()
        runs[name].append((float(at), int(pid)))
    return runs


def _check(engine: Engine, project_id: int, crowd: Crowd, left: list[tuple[str, str]], tmp_path: Path) -> None:
    waiting, active = _state(engine, project_id)
    assert len(set(waiting)) == len(waiting) and len(set(active)) == len(active) and not set(waiting) & set(active)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT worker, event, detail FROM event_log WHERE project_id = :p ORDER BY id"),
                            {"p": project_id}).all()
        payments = conn.execute(text("SELECT assignment_id, kind, count(*) FROM payments GROUP BY assignment_id, kind"
                                     " HAVING count(*) > 1")).all()
        pay_calls = conn.execute(text("SELECT key, count(*) FROM outbox WHERE kind = 'pay' GROUP BY key"
                                      " HAVING count(*) > 1")).all()
    events = collections.Counter((worker, event) for worker, event, _ in rows)
    promoted = [worker for worker, event, _ in rows if event == "promoted"]
    assert len(promoted) == len(set(promoted)), "somebody was promoted twice"
    for key, how in left:
        mine = [(e, d) for w, e, d in rows if w == key]
        page = crowd.workers[key]
        assert events[(key, how)] == 1, (f"{key} left {how}: rows {mine}; page connected {page.client.connected}, "
                                         f"told {page.events[-4:]}; address {crowd.address[key]}, sent to "
                                         f"{_lines_of(tmp_path, crowd.address[key])}")
    departures = collections.Counter(w for w, e, _ in rows if e in ("submitted", "returned", "abandoned"))
    assert all(n == 1 for n in departures.values()), departures
    assert not [w for w, e, _ in rows if e == "abandoned"], "a worker with a live socket was abandoned"
    for key in promoted:
        assert crowd.workers[key].told("promoted") >= 1, f"{key} was promoted but never told"
    assert payments == [] and pay_calls == []
    runs = _job_runs(tmp_path)
    for name, every_s in JOBS.items():
        times = sorted(runs[name])
        assert len(times) >= 3, f"{name} ran {len(times)} times"
        gaps = [b[0] - a[0] for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= every_s - 0.05, f"{name} ran twice within {every_s} s: {min(gaps):.3f} s apart"
    assert len({pid for name in JOBS for _, pid in runs[name]}) >= 2, "the dead owner's jobs were never taken over"
    assert len({pid for name in PER_PROCESS for _, pid in runs[name]}) >= 2
