"""CSV exports of a project: its stints (assignments.csv) and its money ledger (ledger.csv), columns fixed here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavilion.core.latency import ready_latencies
from pavilion.runtime.models import Assignment, EventLog, Payment, Project, Worker
from pavilion.runtime.pay import CENT

# One row per stint, in join order; `*_s` are seconds since launch, like the event log's time_s (README).
ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "worker",  # the policy's worker id (the event log's `worker`): one per stint
    "platform_worker_id",
    "platform_assignment_id",
    "joined_s",
    "promoted_s",
    "ready_s",  # the page acknowledged `promoted` (event log `ready`)
    "ready_latency_s",  # ready_s - promoted_s, from the event log (pavilion.core.latency)
    "left_s",
    "queue",  # the queue held now, or the queue left from; '' for a joiner turned away
    "how",  # submitted | returned | abandoned | rejected; '' while present
    "left_source",  # what reported the departure
    "detail",  # a rejection's reason
    "pay_usd",  # the stint's ledger lines, whatever their status
    "paid_usd",  # of which paid
)

# One row per ledger line, in the order written; times are ISO 8601 UTC.
LEDGER_COLUMNS: tuple[str, ...] = (
    "line",  # the ledger line's id
    "worker",
    "platform_worker_id",
    "platform_assignment_id",
    "kind",  # reward | waiting | active
    "amount_usd",
    "fee_usd",  # the platform's fee on top (MTurk)
    "status",  # pending | paid | failed
    "idempotency_key",  # the key sent with the payment call, so that a retry never pays twice
    "platform_ref",  # the platform's id of the payment, once paid
    "created_at",
    "paid_at",
)


def seconds_since(moment: datetime | None, origin: datetime | None) -> str:
    """Seconds from `origin` to `moment` with millisecond precision, or '' when either is unknown."""
    if moment is None or origin is None:
        return ""
    return f"{(moment - origin).total_seconds():.3f}"


def dollars(cents: int) -> str:
    """Integer cents as a dollar string with two decimals."""
    return str((Decimal(cents) * CENT).quantize(CENT))


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Render rows (one value per column) as CSV text with a header line; None becomes ''."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} values for {len(columns)} columns: {row!r}")
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def ready_times(session: Session, project_id: int) -> tuple[dict[str, float], dict[str, float]]:
    """(time_s of each stint's `ready` row, its promotion-to-ready latency), by policy worker id, from the log."""
    rows = [(float(t), w, e) for t, w, e in session.execute(
        select(EventLog.time_s, EventLog.worker, EventLog.event)
        .where(EventLog.project_id == project_id, EventLog.event.in_(("promoted", "ready")))
        .order_by(EventLog.id)
    )]
    latencies = ready_latencies(rows)
    ready: dict[str, float] = {}
    for time_s, worker, event in rows:
        if event == "ready" and worker in latencies:
            ready.setdefault(worker, time_s)
    return ready, latencies


def _pay_by_stint(session: Session, project_id: int) -> dict[int, tuple[int, int]]:
    """Assignment id -> (cents on all its ledger lines, cents on its paid lines)."""
    paid = func.sum(Payment.amount_cents).filter(Payment.status == "paid")
    query = (select(Payment.assignment_id, func.sum(Payment.amount_cents), paid)
             .where(Payment.project_id == project_id).group_by(Payment.assignment_id))
    return {aid: (int(total or 0), int(done or 0)) for aid, total, done in session.execute(query)}


def assignment_rows(session: Session, project: Project) -> Iterator[Sequence[Any]]:
    """Every stint of the project in join order, with ASSIGNMENT_COLUMNS' values."""
    query = (
        select(Assignment, Worker.platform_worker_id)
        .join(Worker, Assignment.worker_id == Worker.id)
        .where(Assignment.project_id == project.id)
        .order_by(Assignment.id)
    )
    origin = project.launched_at
    ready, latencies = ready_times(session, project.id)
    pay = _pay_by_stint(session, project.id)
    for stint, platform_worker in session.execute(query):
        total, paid = pay.get(stint.id, (0, 0))
        yield (
            stint.key, platform_worker, stint.platform_assignment_id,
            seconds_since(stint.joined_at, origin), seconds_since(stint.promoted_at, origin),
            f"{ready[stint.key]:.3f}" if stint.key in ready else "",
            f"{latencies[stint.key]:.3f}" if stint.key in latencies else "",
            seconds_since(stint.left_at, origin), stint.queue, stint.how_left or "", stint.left_source or "",
            stint.detail, dollars(total), dollars(paid),
        )


def ledger_rows(session: Session, project_id: int) -> Iterator[Sequence[Any]]:
    """Every ledger line of the project in the order written, with LEDGER_COLUMNS' values."""
    query = (
        select(Payment, Assignment.key, Assignment.platform_assignment_id, Worker.platform_worker_id)
        .join(Assignment, Payment.assignment_id == Assignment.id)
        .join(Worker, Assignment.worker_id == Worker.id)
        .where(Payment.project_id == project_id)
        .order_by(Payment.id)
    )
    for line, key, platform_assignment, platform_worker in session.execute(query):
        yield (
            line.id, key, platform_worker, platform_assignment, line.kind, dollars(line.amount_cents),
            dollars(line.fee_cents), line.status, line.key, line.platform_ref, _iso(line.created_at),
            _iso(line.paid_at),
        )


def assignments_csv(session: Session, project: Project) -> str:
    return to_csv(ASSIGNMENT_COLUMNS, assignment_rows(session, project))


def ledger_csv(session: Session, project_id: int) -> str:
    return to_csv(LEDGER_COLUMNS, ledger_rows(session, project_id))
