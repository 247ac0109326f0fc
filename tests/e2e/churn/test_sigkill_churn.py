"""Crash safety under churn (issue 17 item 7a): a real `pavilion serve` is SIGKILLed three times while workers join
and leave over Socket.IO; after each restart the session goes on, and at the end the database shows no
acknowledged departure lost, nobody paid twice, no double promotion, every worker in at most one queue, and one
event row per departure. SQLite and PostgreSQL."""

from __future__ import annotations

import html
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pavilion.runtime import migrate
from pavilion.runtime.accounts import create_admin, create_token
from pavilion.runtime.config import utc_now
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.models import Assignment, EventLog, Outbox, Payment, Project
from pavilion.runtime.state import state_from_json
from pavilion.runtime.tokens import WorkerTokens

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
SECRET = "churn-secret"
TOKEN = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')
DEPARTURES = ("submitted", "returned", "abandoned", "rejected")
KILLS, CHURN_S, WORKERS = 3, 2.5, 6
PROJECT = {
    "name": "churn", "platform": {"name": "local"},
    "policy": {"name": "pavilion", "min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12.00"},
    "task": {"title": "Churn", "url": "https://task.test/churn", "max_waiting_s": 0},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[
    pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")])])
def database_url(request: pytest.FixtureRequest, scratch_database: Callable[[str, str], AbstractContextManager[str]]
) -> Iterator[str]:
    with scratch_database(request.param, "pavilion_churn") as url:
        yield url


class Server:
    """`pavilion serve` as a subprocess that the test may SIGKILL and start again on the same port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.popen: subprocess.Popen[str] | None = None

    def start(self) -> None:
        handle = self.log.open("a")
        self.popen = subprocess.Popen([sys.executable, "-m", "pavilion.cli", "serve", "--port", str(self.port)],
                                      env=self.env, stdout=handle, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120  # generous: start-up imports crawl on a loaded CI machine
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, f"pavilion serve exited:\n{self.log.read_text()[-3000:]}"
            try:
                httpx.get(self.url + "/admin/login", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"pavilion serve did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Churner(threading.Thread):
    """One browser after another: join, connect /worker, stay a moment, leave (`submitted` or `returned`)."""

    def __init__(self, server: Server, project_id: int, seed: int, acked: dict[str, str], stop: threading.Event):
        super().__init__(daemon=True)
        self.server, self.project_id, self.rng = server, project_id, random.Random(seed)
        self.acked, self.stop_flag = acked, stop
        self.tokens = WorkerTokens(SECRET, 3600, utc_now)
        self.stints = 0

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                self._one_stint()
            except Exception:  # noqa: BLE001 - the server may be dead right now; the next stint tries again
                time.sleep(0.2)

    def _one_stint(self) -> None:
        import socketio

        page = httpx.get(f"{self.server.url}/join/{self.project_id}", follow_redirects=True, timeout=5)
        found = TOKEN.search(page.text)
        if page.status_code != 200 or not found:
            time.sleep(0.3)  # full, or the server is down
            return
        token = html.unescape(found.group(1))
        key = self.tokens.verify(token).assignment_key
        self.stints += 1
        client = socketio.Client(reconnection=False)
        try:
            client.connect(self.server.url, namespaces=["/worker"], auth={"token": token}, wait_timeout=5,
                           transports=["websocket"])
            time.sleep(self.rng.uniform(0.1, 0.6))
            how = self.rng.choice(["submitted", "returned"])
            reply = client.call("leave", {"how": how}, namespace="/worker", timeout=5)
            if isinstance(reply, dict) and reply.get("ok"):
                self.acked[key] = how  # the server said so: it must be in the database whatever happens next
        finally:
            client.disconnect()


def _churn_until(acked: dict[str, str], count: int, bound_s: float = 30.0) -> None:
    """Let the workers churn for CHURN_S and until `count` departures are acknowledged (at most `bound_s`): on a
    loaded machine a restart takes long, and a kill should still land among departures in flight."""
    start = time.monotonic()
    while time.monotonic() - start < bound_s and (time.monotonic() - start < CHURN_S or len(acked) < count):
        time.sleep(0.1)


def _invariants(db: Database, project_id: int, acked: dict[str, str]) -> dict[str, int]:
    with db.session_scope() as session:
        stints = {a.key: a for a in session.scalars(select(Assignment).where(Assignment.project_id == project_id))}
        events = list(session.scalars(select(EventLog).where(EventLog.project_id == project_id)))
        payments = list(session.scalars(select(Payment).where(Payment.project_id == project_id)))
        state = state_from_json(session.get(Project, project_id).state)
        pending = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "done"))
    lost = {k: how for k, how in acked.items() if k not in stints or stints[k].how_left != how}
    assert not lost, f"acknowledged departures lost: {lost}"
    paid_twice = [k for k, n in Counter((p.assignment_id, p.kind) for p in payments).items() if n > 1]
    assert not paid_twice and len({p.key for p in payments}) == len(payments), paid_twice
    promotions = Counter(e.worker for e in events if e.event == "promoted")
    assert all(n == 1 for n in promotions.values()), promotions
    queued = list(state.waiting) + list(state.active)
    assert len(queued) == len(set(queued)), (state.waiting, state.active)
    assert all(stints[k].left_at is None for k in queued)
    # A joiner the platform turned away before any place is a job row (worker ''), not a stint's departure.
    departures = Counter(e.worker for e in events if e.event in DEPARTURES and e.worker)
    assert all(n == 1 for n in departures.values()), departures
    left = {k for k, a in stints.items() if a.how_left in DEPARTURES}
    assert set(departures) == left, (set(departures) ^ left)
    return {"stints": len(stints), "acked": len(acked), "departures": len(left), "promotions": len(promotions),
            "payments": len(payments), "outbox_not_done": int(pending or 0)}


def test_sigkill_during_churn_keeps_the_books(tmp_path: Path, database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    db = Database(engine)
    create_admin(db, "lab", "correct horse", utc_now)
    bearer = {"Authorization": f"Bearer {create_token(db, 'lab', utc_now)}"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_")}
    env.update(PAVILION_DATABASE_URL=database_url, PAVILION_SECRET_KEY=SECRET, PAVILION_ENV="testing",
               PAVILION_INSTANCE_PATH=str(tmp_path / "instance"), PAVILION_OUTBOX_RETRY_S="0.5",
               PAVILION_ABANDON_GRACE_S="3", PYTHONUNBUFFERED="1")
    server = Server(env, tmp_path / "serve.log")
    server.start()
    try:
        project_id = httpx.post(f"{server.url}/api/projects", json=PROJECT, headers=bearer).json()["id"]
        assert httpx.post(f"{server.url}/api/projects/{project_id}/launch", headers=bearer).status_code == 200
        acked: dict[str, str] = {}
        stop = threading.Event()
        churners = [Churner(server, project_id, seed, acked, stop) for seed in range(WORKERS)]
        for churner in churners:
            churner.start()
        for _ in range(KILLS):
            _churn_until(acked, len(acked) + 2)
            server.kill()  # mid-churn: joins, leaves and payments in flight
            server.start()
        _churn_until(acked, max(len(acked) + 2, 5))
        stop.set()
        for churner in churners:
            churner.join(timeout=20)
        deadline = time.monotonic() + 20  # the restarted server's outbox pass finishes what the kills cut short
        while time.monotonic() < deadline and _invariants(db, project_id, acked)["outbox_not_done"]:
            time.sleep(0.5)
        figures = _invariants(db, project_id, acked)
    finally:
        server.stop()
    print(f"churn figures ({database_url.split(':')[0]}): {figures}, kills {KILLS}")
    assert figures["acked"] >= 3 and figures["outbox_not_done"] == 0, figures
    db.dispose()
