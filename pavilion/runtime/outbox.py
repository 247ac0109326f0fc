"""The outbox runner: carries out recorded outside calls (platform hire/expire/stop, payments) and retries them.

A row is claimed (pending -> running) in a short transaction, the platform is called with the row's constant
idempotency key, and the result is stored in a second transaction (running -> done, payment -> paid). A crash
between the call and the record leaves the row running; after `lease_s` (or at start-up) it is retried with the
same key, which the adapter uses to recognise the repeat, so a call is neither lost nor done twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.runtime.config import Clock
from pavilion.runtime.db import Database
from pavilion.runtime.models import Outbox, Payment, Project
from pavilion.runtime.pay import CENT, to_cents
from pavilion.runtime.platforms.base import CrowdPlatform, PaymentOrder, PlatformError, PlatformProject

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
REASONS = {
    "reward": "Reward for the task",
    "waiting": "Bonus for your time in the waiting room",
    "active": "Bonus for your time on the live task",
}


class OutboxRunner:
    """Runs pending outbox rows, one project at a time per process, in the order they were recorded."""

    def __init__(
        self,
        db: Database,
        platform_for: Callable[[Project], CrowdPlatform],
        view: Callable[[Session, Project], PlatformProject],
        clock: Clock,
        lease_s: float = 300.0,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.platform_for = platform_for
        self.view = view
        self.clock = clock
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, project_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.Lock())

    def due(self, project_id: int | None = None, stale_before: datetime | None = None) -> list[tuple[int, int]]:
        """(row id, project id) of rows to run: pending ones, and running ones claimed before `stale_before`."""
        stale_before = stale_before or (self.clock() - self.lease)
        query = select(Outbox.id, Outbox.project_id).where(
            (Outbox.status == "pending") | ((Outbox.status == "running") & (Outbox.claimed_at < stale_before))
        )
        if project_id is not None:
            query = query.where(Outbox.project_id == project_id)
        with self.db.session_scope() as session:
            return [(row_id, pid) for row_id, pid in session.execute(query.order_by(Outbox.id)).all()]

    def run(self, project_id: int | None = None, stale_before: datetime | None = None) -> int:
        """Run every due row (of one project, or all); returns how many completed."""
        done = 0
        for row_id, pid in self.due(project_id, stale_before):
            with self._lock(pid):
                done += self.run_one(row_id, stale_before)
        return done

    def recover(self) -> int:
        """At start-up nothing of ours is running: retry every pending and every running row now."""
        return self.run(stale_before=self.clock() + timedelta(days=1))

    def run_one(self, row_id: int, stale_before: datetime | None = None) -> bool:
        """Claim, call, record one row; True when it completed."""
        claimed = self._claim(row_id, stale_before or (self.clock() - self.lease))
        if claimed is None:
            return False
        kind, adapter, call = claimed
        try:
            result = call()
        except PlatformError as exc:
            self._failed(row_id, str(exc), give_up=not exc.transient)
            return False
        except Exception as exc:  # an adapter bug or a network error: keep the row and retry later
            log.exception("outbox row %s (%s) failed", row_id, kind)
            self._failed(row_id, f"{type(exc).__name__}: {exc}", give_up=False)
            return False
        self._done(row_id, kind, adapter, result)
        return True

    def _claim(self, row_id: int, stale_before: datetime) -> tuple[str, CrowdPlatform, Callable[[], Any]] | None:
        with self.db.session_scope(lock=True) as session:
            row = session.scalars(select(Outbox).where(Outbox.id == row_id).with_for_update()).one()
            stale = row.status == "running" and row.claimed_at is not None and row.claimed_at < stale_before
            if row.status != "pending" and not stale:
                return None
            project = session.get_one(Project, row.project_id)
            adapter = self.platform_for(project)
            view = self.view(session, project)
            row.status, row.claimed_at, row.attempts = "running", self.clock(), row.attempts + 1
            return row.kind, adapter, self._call(session, row, adapter, view)

    def _call(self, session: Session, row: Outbox, adapter: CrowdPlatform, view: PlatformProject) -> Callable[[], Any]:
        key = row.key
        if row.kind == "hire":
            count = int(row.payload["count"])
            return lambda: adapter.hire(view, count, key)
        if row.kind == "expire":
            return lambda: adapter.expire(view, key)
        if row.kind == "stop":
            return lambda: adapter.stop(view, key)
        if row.kind == "pay":
            order = self._order(session, int(row.payload["payment_id"]))
            return lambda: adapter.pay(view, order)
        raise ValueError(f"unknown outbox kind {row.kind!r}")

    @staticmethod
    def _order(session: Session, payment_id: int) -> PaymentOrder:
        from pavilion.runtime.snapshots import platform_assignment

        payment = session.get_one(Payment, payment_id)
        return PaymentOrder(
            key=payment.key,
            kind=payment.kind,  # type: ignore[arg-type]
            amount=Decimal(payment.amount_cents) * CENT,
            assignment=platform_assignment(payment.assignment),
            reason=REASONS[payment.kind],
        )

    def _done(self, row_id: int, kind: str, adapter: CrowdPlatform, result: Any) -> None:
        now = self.clock()
        with self.db.session_scope(lock=True) as session:
            row = session.scalars(select(Outbox).where(Outbox.id == row_id).with_for_update()).one()
            row.status, row.done_at, row.last_error = "done", now, ""
            if kind == "pay":
                payment = session.get_one(Payment, int(row.payload["payment_id"]))
                fee = adapter.fee(Decimal(payment.amount_cents) * CENT)
                payment.status, payment.paid_at = "paid", now
                payment.platform_ref, payment.fee_cents = str(result)[:128], to_cents(fee)
            elif result is not None:
                project = session.scalars(select(Project).where(Project.id == row.project_id).with_for_update()).one()
                project.platform_state = dict(result)

    def requeue(self, row_id: int) -> bool:
        """Give a failed row (e.g. a payment refused for lack of funds, since topped up) a fresh set of attempts.

        The row keeps its idempotency key, so a call that did reach the platform is still not repeated."""
        with self.db.session_scope(lock=True) as session:
            row = session.scalars(select(Outbox).where(Outbox.id == row_id).with_for_update()).one_or_none()
            if row is None or row.status != "failed":
                return False
            row.status, row.attempts = "pending", 0
            if row.kind == "pay":
                session.get_one(Payment, int(row.payload["payment_id"])).status = "pending"
            return True

    def _failed(self, row_id: int, error: str, give_up: bool) -> None:
        with self.db.session_scope(lock=True) as session:
            row = session.get_one(Outbox, row_id)
            final = give_up or row.attempts >= self.max_attempts
            row.status, row.last_error = ("failed" if final else "pending"), error[:2000]
            if final and row.kind == "pay":
                session.get_one(Payment, int(row.payload["payment_id"])).status = "failed"
