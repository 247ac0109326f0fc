"""Read-only queries behind the admin pages: projects, recent events, failing platform calls, the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavilion.runtime.exports import dollars
from pavilion.runtime.models import Assignment, EventLog, Outbox, Payment, Project, Worker
from pavilion.runtime.state import state_from_json


def project_rows(session: Session) -> list[dict[str, Any]]:
    """One row per project, newest first, with the sizes of both queues."""
    rows = []
    for project in session.scalars(select(Project).order_by(Project.id.desc())):
        state = state_from_json(project.state)
        rows.append({
            "id": project.id, "name": project.name, "policy": project.policy_name,
            "platform": project.platform_name, "status": project.status,
            "waiting": len(state.waiting), "active": len(state.active),
            "created": project.created_at.strftime("%Y-%m-%d %H:%M"),
        })
    return rows


def present_workers(session: Session, project_id: int) -> dict[str, str]:
    """Assignment key -> the platform's worker id, for every worker still in a queue (the dashboard labels)."""
    query = (
        select(Assignment.key, Worker.platform_worker_id)
        .join(Worker, Assignment.worker_id == Worker.id)
        .where(Assignment.project_id == project_id, Assignment.left_at.is_(None))
    )
    return {key: str(worker) for key, worker in session.execute(query)}


def event_dict(row: EventLog) -> dict[str, Any]:
    """An event-log row as the dashboard shows it."""
    return {
        "id": row.id, "project_id": row.project_id, "time_s": row.time_s, "worker": row.worker,
        "event": row.event, "queue": row.queue, "detail": row.detail,
    }


def recent_events(session: Session, project_id: int, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` events with an id above `after`, oldest first."""
    query = (
        select(EventLog)
        .where(EventLog.project_id == project_id, EventLog.id > after)
        .order_by(EventLog.id.desc())
        .limit(limit)
    )
    return [event_dict(row) for row in reversed(list(session.scalars(query)))]


def troubled_calls(session: Session, project_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The project's platform calls that gave up or are being retried after an error, newest first."""
    # A retried row goes back to pending (or is running again) with its last error kept; a done row has it cleared.
    retrying = Outbox.status.in_(("pending", "running")) & (Outbox.last_error != "")
    query = (
        select(Outbox)
        .where(Outbox.project_id == project_id, (Outbox.status == "failed") | retrying)
        .order_by(Outbox.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": row.id, "kind": row.kind, "status": row.status, "attempts": row.attempts,
            "last_error": row.last_error, "created": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for row in session.scalars(query)
    ]


@dataclass(frozen=True)
class Ledger:
    rows: list[dict[str, Any]]
    totals: dict[str, str]


def ledger(session: Session, project_id: int) -> Ledger:
    """The payment lines of a project (newest first) and their totals, in dollars."""
    query = (
        select(Payment, Assignment.key, Worker.platform_worker_id)
        .join(Assignment, Payment.assignment_id == Assignment.id)
        .join(Worker, Assignment.worker_id == Worker.id)
        .where(Payment.project_id == project_id)
        .order_by(Payment.id.desc())
    )
    rows = []
    for payment, key, platform_worker in session.execute(query):
        rows.append({
            "worker": key, "platform_worker_id": platform_worker, "kind": payment.kind,
            "amount": dollars(payment.amount_cents), "fee": dollars(payment.fee_cents), "status": payment.status,
            "platform_ref": payment.platform_ref,
            "created": payment.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "paid": payment.paid_at.strftime("%Y-%m-%d %H:%M:%S") if payment.paid_at else "",
        })
    sums = dict(
        session.execute(
            select(Payment.status, func.sum(Payment.amount_cents))
            .where(Payment.project_id == project_id)
            .group_by(Payment.status)
        ).all()
    )
    fees = session.scalar(select(func.sum(Payment.fee_cents)).where(Payment.project_id == project_id)) or 0
    totals = {
        "amount": dollars(sum(int(v or 0) for v in sums.values())), "fee": dollars(int(fees)),
        "paid": dollars(int(sums.get("paid") or 0)), "pending": dollars(int(sums.get("pending") or 0)),
    }
    return Ledger(rows, totals)
