"""A live session on the Prolific emulator: launch, hiring, returns, timeouts, stop, approval and bonuses.

Webhooks are duplicated and reordered, and the server "restarts" mid-session with payments in flight; every
bonus must be paid exactly once and every departure must be one policy event.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import EventLog, Outbox, Payment
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.platforms.prolific.webhooks import expected_signature
from pavilion.runtime.projects import parse_project

from .conftest import Front, ServerClock, prolific_id, runtime_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PROJECT = {
    "name": "prolific e2e",
    "policy": {"name": "pavilion", "min_active": 2, "max_active": 2, "min_waiting": 1, "max_waiting": 1},
    "platform": {"name": "prolific", "estimated_minutes": 15},
    "pay": {"reward": "1.00", "waiting_wage_per_hour": "6.00", "active_wage_per_hour": "12.00"},
    "task": {"title": "Drive together", "description": "Wait for a team, then play.", "url": "https://task.test/"},
}


def boot(tmp_path: Path, emulator: RunningEmulator, front: Front, clock: ServerClock) -> Flask:
    """Build the runtime app (create_app adds the Prolific webhook route) and put it behind the front address."""
    app = create_app(runtime_config(tmp_path, emulator.api_url, front.url, clock))
    assert "prolific_webhooks" in app.blueprints
    front.dispatcher.app = app
    return app


class Session:
    """The researcher's and the participants' moves, through the service the pages and admin use."""

    def __init__(self, app: Flask, emulator: RunningEmulator, driver: EmulatorDriver, project_id: int) -> None:
        self.app, self.emulator, self.driver, self.project_id = app, emulator, driver, project_id
        self.keys: dict[str, str] = {}  # participant -> assignment key
        self.sessions: dict[str, str] = {}  # participant -> SESSION_ID

    @property
    def service(self) -> Any:
        return get_runtime(self.app).service

    def study_id(self) -> str:
        _, view = self.service.platform_view(self.project_id)
        return str(view.state["study_id"])

    def arrive(self, pid: str) -> str:
        """Take a place on Prolific, open the study link, pass the identity check and join the queues."""
        participant = prolific_id(pid)
        sub = self.driver.start(self.driver.reserve(self.study_id(), participant)["id"])
        adapter, view = self.service.platform_view(self.project_id)
        args = {"PROLIFIC_PID": participant, "STUDY_ID": self.study_id(), "SESSION_ID": sub["id"]}
        identity = adapter.identify(view, args)
        assert isinstance(identity, Identity)
        result = self.service.join(self.project_id, identity)
        self.keys[pid], self.sessions[pid] = result.assignment_key, sub["id"]
        return str(result.queue)

    def queues(self) -> tuple[list[str], list[str]]:
        snap = self.service.snapshot(self.project_id)
        by_key = {k: p for p, k in self.keys.items()}
        return [by_key[k] for k in snap["waiting"]], [by_key[k] for k in snap["active"]]

    def study(self) -> Any:
        return self.emulator.emulator.state.studies[self.study_id()]


def events(app: Flask, kind: str) -> list[str]:
    with get_runtime(app).db.session_scope() as s:
        return [e.worker for e in s.scalars(select(EventLog).where(EventLog.event == kind).order_by(EventLog.id))]


def payments(app: Flask) -> list[dict[str, Any]]:
    with get_runtime(app).db.session_scope() as s:
        rows = s.scalars(select(Payment).order_by(Payment.id))
        return [
            {
                "id": p.id,
                "key": p.key,
                "kind": p.kind,
                "status": p.status,
                "cents": p.amount_cents,
                "assignment": p.assignment.key,
            }
            for p in rows
        ]


def test_a_prolific_session_end_to_end(
    tmp_path: Path, emulator: RunningEmulator, driver: EmulatorDriver, front: Front
) -> None:
    clock = ServerClock()
    app = boot(tmp_path, emulator, front, clock)
    driver.switches(duplicate=True, reorder=True)
    project_id = get_runtime(app).service.create_project(parse_project(PROJECT))
    get_runtime(app).service.launch(project_id)
    s = Session(app, emulator, driver, project_id)
    assert s.study().status == "ACTIVE" and s.study().total_available_places == 3  # Hire(max_active + max_waiting)

    hook = f"{front.url}/prolific/webhook/{project_id}"
    assert httpx.post(hook, content=b'{"resource_id": "x"}').status_code == 401  # unsigned: refused
    body = (
        b'{"resource_id": "0123456789abcdef01234567", "event_type": "submission.status.change", "status": "RETURNED"}'
    )
    stamp = str(int(time.time()))
    secret = s.service.platform_view(project_id)[0].hooks.secret()
    headers = {
        "X-Prolific-Request-Signature": expected_signature(secret, stamp, body),
        "X-Prolific-Request-Timestamp": stamp,
        "X-Event-ID": "not-ours",
    }
    assert httpx.post(hook, content=body, headers=headers).status_code == 204  # signed, unknown: ignored

    for pid in ("p1", "p2", "p3"):
        s.arrive(pid)
        clock.advance(600)
    assert s.queues() == (["p3"], ["p1", "p2"])

    # A waiting participant returns on Prolific: one departure from duplicated webhooks, no hire, the place re-opens.
    driver.return_submission(s.sessions["p3"])
    driver.flush()
    assert events(app, "returned") == [s.keys["p3"]]
    assert s.study().total_available_places == 3 and s.study().status == "ACTIVE"  # restarted after Prolific paused it
    s.arrive("p4")
    clock.advance(300)

    # An active participant times out: abandoned, no hire (one stays waiting, min_waiting = 1).
    driver.time_out(s.sessions["p1"])
    driver.flush()
    assert events(app, "abandoned") == [s.keys["p1"]]
    assert s.queues() == (["p4"], ["p2"])
    s.arrive("p5")  # Prolific re-opened p1's place; the newcomer lets p4 be promoted
    assert s.queues() == (["p5"], ["p2", "p4"])
    clock.advance(900)

    # An active participant finishes: one hire (absolute target 4), reward approved, two bonuses paid.
    s.service.depart(project_id, s.keys["p2"], "submitted", "socket")
    assert s.study().total_available_places == 4
    assert s.queues() == (["p5"], ["p4"])
    paid_p2 = {p["kind"]: p for p in payments(app) if p["status"] == "paid"}
    assert set(paid_p2) == {"reward", "waiting", "active"}
    assert emulator.emulator.state.submissions[s.sessions["p2"]].status == "APPROVED"

    # The server dies after paying p2's waiting bonus but before recording it; p4's bonus answer is lost too.
    with get_runtime(app).db.session_scope() as db:
        row = db.scalars(select(Outbox).where(Outbox.key == paid_p2["waiting"]["key"])).one()
        row.status, row.claimed_at = "running", clock()
        db.get_one(Payment, paid_p2["waiting"]["id"]).status = "pending"
    driver.fault("POST", "/api/v1/bulk-bonus-payments/", 502, after=True)
    clock.advance(1200)
    s.service.stop(project_id)  # pause, complete p4 and p5, stop, approve in bulk
    driver.flush()  # their AWAITING REVIEW webhooks are their departures
    assert sorted(events(app, "submitted")) == sorted(s.keys[p] for p in ("p2", "p4", "p5"))
    get_runtime(app).shutdown()

    app = boot(tmp_path, emulator, front, clock)  # the restart: recover every pending and running outbox row
    get_runtime(app).service.outbox.recover()
    driver.flush()
    get_runtime(app).service.outbox.recover()

    ledger = payments(app)
    assert all(p["status"] == "paid" for p in ledger), ledger
    state = emulator.emulator.state
    for pid in ("p2", "p4", "p5"):
        sub = state.submissions[s.sessions[pid]]
        assert sub.status == "APPROVED"
        owed = sum(p["cents"] for p in ledger if p["kind"] != "reward" and p["assignment"] == s.keys[pid])
        credited = sum(row["cents"] for row in state.payments if row["participant_id"] == prolific_id(pid))
        assert credited == owed > 0, pid  # every bonus paid, none twice
    assert all(batch.pay_calls <= 1 for batch in state.bonuses.values())
    assert s.study().status == "COMPLETED"
    assert {state.submissions[s.sessions[p]].status for p in ("p1", "p3")} == {"TIMED-OUT", "RETURNED"}
    get_runtime(app).shutdown()
