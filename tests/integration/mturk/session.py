"""A scripted MTurk session: PolicyService + MTurk adapter + emulator + SQS, with workers driven on the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from pavilion.emulators.mturk.emulator import Emulator
from pavilion.emulators.mturk.notifications import Chaos
from pavilion.emulators.mturk.server import RunningEmulator, running_emulator
from pavilion.runtime import migrate
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.models import Assignment, EventLog, Payment, Worker
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Identity, PlatformAssignment
from pavilion.runtime.platforms.mturk.consumer import poll_once
from pavilion.runtime.projects import parse_project
from pavilion.runtime.service import PolicyService


class SharedClock:
    """One manual time for both sides: epoch seconds for the emulator, aware datetimes for the server."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Session:
    """The live pieces of one session; `service` can be rebuilt to simulate a server restart."""

    emu: RunningEmulator
    db: Database
    clock: SharedClock
    config: dict[str, Any]
    service: PolicyService
    notifier: MemoryNotifier
    project_id: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # platform worker id -> our assignment key
    assignments: dict[str, str] = field(default_factory=dict)  # platform worker id -> MTurk assignment id

    def restart(self, spawn: Any = None) -> None:
        """A new server process on the same database: new service, adapters and clients; nothing in memory kept."""
        self.notifier = MemoryNotifier()
        self.service = make_service(self.db, self.notifier, self.clock, self.config, spawn)

    # ---- the worker's side -------------------------------------------------------------------------------
    def accept(self, worker: str) -> str:
        """The worker finds an open HIT of the project on MTurk, accepts it and loads our task page."""
        hit_ids = self.service.platform_view(self.project_id)[1].state["hits"]
        open_hits = [h["HITId"] for h in httpx.get(f"{self.emu.url}/_emu/hits").json() if h["HITId"] in hit_ids]
        got = httpx.post(f"{self.emu.url}/_emu/accept", json={"hit_id": open_hits[0], "worker_id": worker}).json()
        adapter, view = self.service.platform_view(self.project_id)
        identity = adapter.identify(view, dict(httpx.URL(got["url"]).params))
        assert isinstance(identity, Identity)
        joined = self.service.join(self.project_id, identity)
        self.keys[worker], self.assignments[worker] = joined.assignment_key, identity.assignment_id
        return joined.assignment_key

    def submit(self, worker: str) -> None:
        """The page posts MTurk's externalSubmit form, as the adapter's submit target says."""
        adapter, view = self.service.platform_view(self.project_id)
        target = adapter.submit_target(view, PlatformAssignment(self.keys[worker], worker, self.assignments[worker]))
        assert target is not None
        assert httpx.post(target.url, data=dict(target.fields)).status_code == 200

    def leave_by_socket(self, worker: str, how: str) -> None:
        self.service.depart(self.project_id, self.keys[worker], how, "socket")

    def mturk_return(self, worker: str) -> None:
        httpx.post(f"{self.emu.url}/_emu/return", json={"assignment_id": self.assignments[worker]})

    def mturk_abandon(self, worker: str) -> None:
        httpx.post(f"{self.emu.url}/_emu/abandon", json={"assignment_id": self.assignments[worker]})

    # ---- the server's side -------------------------------------------------------------------------------
    def sync(self, reconcile: bool = False) -> None:
        """Let held-back notifications out, read the queue once, optionally reconcile, pay what is due."""
        self.emu.emulator.dispatcher.flush()
        poll_once(self.service)
        if reconcile:
            self.service.reconcile(self.project_id)
        self.service.outbox.run(self.project_id)

    def outcome(self) -> dict[str, Any]:
        """What must not depend on delivery order or duplicates: the event log, departures and money."""
        names = {key: worker for worker, key in self.keys.items()}
        with self.db.session_scope() as s:
            log = [(round(e.time_s, 3), e.event, names.get(e.worker, e.worker), e.queue, e.detail)
                   for e in s.scalars(select(EventLog).where(EventLog.project_id == self.project_id)
                                      .order_by(EventLog.id))]
            left = sorted((w.platform_worker_id, a.how_left or "", a.left_source or "") for a, w in s.execute(
                select(Assignment, Worker).join(Worker, Assignment.worker_id == Worker.id)).all())
            paid = sorted((names[p.assignment.key], p.kind, p.amount_cents, p.status) for p in s.scalars(
                select(Payment)))
        model = self.emu.emulator.model
        bonuses = sorted((b.worker_id, str(b.amount)) for b in model.bonuses)
        approved = sorted(a.worker_id for a in model.assignments.values() if a.status == "Approved")
        return {"log": log, "left": left, "paid": paid, "bonuses": bonuses, "approved": approved,
                "balance": str(model.balance)}


def make_service(db: Database, notifier: MemoryNotifier, clock: SharedClock, config: dict[str, Any],
                 spawn: Any = None) -> PolicyService:
    if spawn is None:
        return PolicyService(db, notifier, clock, config)
    return PolicyService(db, notifier, clock, config, spawn)


PROJECT = {
    "name": "MTurk session",
    "policy": {"name": "pavilion", "min_active": 1, "max_active": 2, "min_waiting": 1, "max_waiting": 2},
    "platform": {"name": "mturk", "assignment_duration_s": 1800},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12"},
    "task": {"title": "Steer the robot", "description": "A live task with a waiting room",
             "url": "https://task.test/live"},
}


@contextmanager
def mturk_session(tmp_path: Path, queue_url: str, sqs_endpoint: str, chaos: Chaos | None = None) -> Iterator[Session]:
    clock = SharedClock()
    with running_emulator(Emulator(clock, chaos=chaos)) as emu:  # type: ignore[arg-type]
        db = Database(make_engine(f"sqlite:///{tmp_path / 'pavilion.sqlite'}"))
        migrate.upgrade(db.engine)
        config = {"PUBLIC_URL": "http://127.0.0.1:5000", "MTURK_ENDPOINT": emu.url, "MTURK_SQS_QUEUE_URL": queue_url,
                  "MTURK_SQS_ENDPOINT": sqs_endpoint, "MTURK_MAX_ATTEMPTS": 2}
        notifier = MemoryNotifier()
        session = Session(emu, db, clock, config, make_service(db, notifier, clock, config), notifier)
        session.project_id = session.service.create_project(parse_project(PROJECT))
        try:
            yield session
        finally:
            db.dispose()
