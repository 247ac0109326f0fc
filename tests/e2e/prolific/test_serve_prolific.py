"""`pavilion serve --platform prolific` against the emulator: a whole session through the real server process.

Participants take places on the emulator, open the study link on the server, and leave through Prolific (return,
time out) or through the page's socket (submit). Webhooks are duplicated; the server is killed with a bonus pay
answer lost in flight and started again. Every bonus must be paid exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import socketio
from sqlalchemy import create_engine, text

from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime import migrate
from pavilion.runtime.accounts import create_admin, create_token
from pavilion.runtime.config import utc_now
from pavilion.runtime.db import Database, make_engine

from .conftest import TOKEN, prolific_id

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PROJECT = {
    "name": "prolific serve e2e",
    "policy": {"name": "pavilion", "min_active": 2, "max_active": 2, "min_waiting": 1, "max_waiting": 1},
    "platform": {"name": "prolific", "estimated_minutes": 15},
    # Rehearsal wages, high enough that a few seconds of waiting or work are whole cents.
    "pay": {"reward": "1.00", "waiting_wage_per_hour": "360.00", "active_wage_per_hour": "720.00"},
    "task": {"title": "Drive together", "description": "Wait for a team, then play.", "url": "https://task.test/"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Server:
    """`pavilion serve` as a child process, with its environment."""

    def __init__(self, tmp_path: Path, emulator: RunningEmulator) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = tmp_path / "pavilion.sqlite"
        self.env = {
            **os.environ,
            "PAVILION_INSTANCE_PATH": str(tmp_path / "instance"),
            "PAVILION_DATABASE_URL": f"sqlite:///{self.db_path}",
            "PAVILION_SECRET_KEY": "serve-e2e-secret",
            "PAVILION_PUBLIC_URL": self.url,
            "PAVILION_PROLIFIC_TOKEN": TOKEN,
            "PAVILION_RECONCILE_S": "1",
            "PAVILION_OUTBOX_RETRY_S": "1",
            "PAVILION_ABANDON_GRACE_S": "3600",  # participants here hold no socket between their moves
        }
        self.emulator_api = emulator.api_url
        self.proc: subprocess.Popen[str] | None = None

    def admin_token(self) -> str:
        """An admin and an API token in the server's database (what `pavilion admin ...` does)."""
        db = Database(make_engine(f"sqlite:///{self.db_path}"))
        try:
            migrate.upgrade(db.engine)
            create_admin(db, "alice", "a long enough password", utc_now)
            return create_token(db, "alice", utc_now)
        finally:
            db.dispose()

    def start(self) -> None:
        command = ["serve", "--platform", "prolific", "--port", str(self.port), "--prolific-api-url", self.emulator_api]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pavilion.cli", *command],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/api/projects/0", timeout=1).status_code in (401, 404)
            except httpx.HTTPError:
                return False

        wait_for(up, "the server to listen", timeout_s=90)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # a crash: no clean shutdown
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def server(tmp_path: Path, emulator: RunningEmulator) -> Iterator[Server]:
    srv = Server(tmp_path, emulator)
    yield srv
    if srv.proc is not None:
        srv.proc.terminate()
        srv.proc.wait(timeout=10)


def arrive(server: Server, driver: EmulatorDriver, pid: int, study_id: str, participant: str) -> tuple[str, str]:
    """Take a place on Prolific and open the study link; returns (SESSION_ID, the page's worker token)."""
    session = driver.start(driver.reserve(study_id, prolific_id(participant))["id"])["id"]
    args = {"PROLIFIC_PID": prolific_id(participant), "STUDY_ID": study_id, "SESSION_ID": session}
    response = httpx.get(f"{server.url}/task/{pid}", params=args, follow_redirects=False, timeout=20)
    assert response.status_code == 303, response.text
    return session, parse_qs(urlsplit(response.headers["location"]).query)["token"][0]


def submit(server: Server, token: str) -> None:
    """The page says the worker is done, over the /worker socket."""
    client = socketio.Client()
    client.connect(server.url, namespaces=["/worker"], auth={"token": token}, transports=["websocket"])
    try:
        reply = client.call("leave", {"how": "submitted"}, namespace="/worker", timeout=20)
        assert reply and reply.get("ok"), reply
    finally:
        client.disconnect()


def test_a_prolific_session_through_pavilion_serve(
    tmp_path: Path, emulator: RunningEmulator, driver: EmulatorDriver, server: Server
) -> None:
    driver.switches(duplicate=True)
    emulator.emulator.deliverer.start()
    token = server.admin_token()
    server.start()
    api = httpx.Client(base_url=f"{server.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=20)
    pid = api.post("/projects", json=PROJECT).json()["id"]
    assert api.post(f"/projects/{pid}/launch").status_code == 200
    state = emulator.emulator.state
    study = wait_for(lambda: next(iter(state.studies.values()), None), "the study")
    wait_for(lambda: study.status == "ACTIVE", "the study to be published")
    assert study.total_available_places == 3

    def counts() -> dict[str, int]:
        return dict(api.get(f"/projects/{pid}").json()["counts"])

    sessions, tokens = {}, {}
    for participant in ("p1", "p2", "p3"):
        sessions[participant], tokens[participant] = arrive(server, driver, pid, study.id, participant)
        time.sleep(0.5)  # whole cents of waiting pay (360/h is 5 cents in half a second)
    assert counts()["active"] == 2 and counts()["waiting"] == 1

    driver.return_submission(sessions["p3"])  # a waiting participant returns: no hire, Prolific re-opens
    wait_for(lambda: counts().get("returned") == 1, "the return")
    wait_for(lambda: study.status == "ACTIVE", "the study to be started again after Prolific paused it")
    sessions["p4"], tokens["p4"] = arrive(server, driver, pid, study.id, "p4")

    driver.time_out(sessions["p1"])  # an active participant times out: abandoned
    wait_for(lambda: counts().get("abandoned") == 1, "the timeout")
    wait_for(lambda: study.status == "ACTIVE", "the study to be started again")
    sessions["p5"], tokens["p5"] = arrive(server, driver, pid, study.id, "p5")
    time.sleep(2)  # whole cents of waiting and active pay
    submit(server, tokens["p2"])
    wait_for(lambda: study.total_available_places == 4, "one hire after a submission")
    wait_for(lambda: state.submissions[sessions["p2"]].status == "APPROVED", "p2's approval")
    wait_for(lambda: len({r["bonus_id"] for r in state.payments}) == 2, "p2's two bonuses")

    ledger_query = (
        "SELECT p.kind, p.status, p.amount_cents, a.platform_assignment_id FROM payments p "
        "JOIN assignments a ON a.id = p.assignment_id"
    )
    engine = create_engine(f"sqlite:///{server.db_path}")

    def ledger() -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(text(ledger_query)))

    driver.settings(bonus_lag_s=30)  # Prolific credits bonus_payments late
    driver.fault("POST", "/api/v1/bulk-bonus-payments/", 502, after=True)  # a pay answer lost in flight
    assert api.post(f"/projects/{pid}/stop").status_code == 200
    wait_for(lambda: counts().get("submitted") == 3, "p4 and p5 completed by the stop")
    wait_for(lambda: not any(f.times for f in emulator.emulator.faults), "the lost answer")
    assert any(row.status == "pending" for row in ledger())  # sent, unconfirmed: it must not be sent again

    def settled() -> bool:
        """Every other payment answered: a kill now interrupts no call (one cut mid-call is never re-sent either,
        by design, and would be a second lost answer that this test does not arrange)."""
        with engine.connect() as conn:
            rows = list(conn.execute(text("SELECT status, last_error FROM outbox WHERE kind = 'pay'")))
        unanswered = [r for r in rows if r.status != "done"]
        return len(unanswered) == 1 and unanswered[0].status == "pending" and bool(unanswered[0].last_error)

    wait_for(settled, "every payment but the lost answer to be done")
    server.kill()
    driver.advance(30)  # meanwhile Prolific credits the bonus whose answer was lost
    server.start()  # the restart recovers the outbox: the lost answer is confirmed from the credit, not re-sent
    try:
        wait_for(lambda: all(row.status == "paid" for row in ledger()), "every ledger line paid")
    except AssertionError:
        with engine.connect() as conn:
            rows = list(conn.execute(text("SELECT kind, status, attempts, last_error, key FROM outbox")))
            journal = list(conn.execute(text("SELECT * FROM prolific_bonus_journal")))
        raise AssertionError(f"ledger {ledger()}\noutbox {rows}\njournal {journal}") from None
    for participant in ("p2", "p4", "p5"):
        session = sessions[participant]
        owed = sum(r.amount_cents for r in ledger() if r.kind != "reward" and r.platform_assignment_id == session)
        credited = sum(row["cents"] for row in state.payments if row["participant_id"] == prolific_id(participant))
        assert credited == owed > 0, participant
        assert state.submissions[session].status == "APPROVED"
    assert all(batch.pay_calls == 1 for batch in state.bonuses.values() if batch.pay_calls)
    assert study.status == "COMPLETED"
    answers = [d["response_status"] for sub in state.subscriptions.values() for d in sub.deliveries]
    assert 204 in answers and set(answers) <= {204, None}  # signed, duplicated: all accepted (None: server down)
    assert counts() | {"returned": 1, "abandoned": 1, "submitted": 3} == counts()
    engine.dispose()
