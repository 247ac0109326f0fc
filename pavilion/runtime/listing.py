"""Read models for the JSON API beyond the snapshot: an admin's projects, the queued workers' platform ids, and
the promotion-to-ready latency of a session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.core.latency import latency_summary
from pavilion.runtime.exports import ready_times
from pavilion.runtime.models import Assignment, Project, Worker
from pavilion.runtime.snapshots import counts
from pavilion.runtime.state import state_from_json

PROJECT_STATUSES = ("draft", "live", "expired", "stopped")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def projects_of(session: Session, owner_id: int, status: str | None = None) -> list[dict[str, Any]]:
    """The projects an admin owns (oldest first), optionally only those with one status."""
    query = select(Project).where(Project.owner_id == owner_id).order_by(Project.id)
    if status is not None:
        query = query.where(Project.status == status)
    out = []
    for project in session.scalars(query):
        state = state_from_json(project.state)
        out.append({
            "id": project.id, "name": project.name, "status": project.status,
            "policy": {"name": project.policy_name, **project.policy_params}, "platform": project.platform_name,
            "created_at": _iso(project.created_at), "launched_at": _iso(project.launched_at),
            "stopped_at": _iso(project.stopped_at),
            "counts": {"waiting": len(state.waiting), "active": len(state.active), **counts(session, project.id)},
        })
    return out


def queued_workers(session: Session, project_id: int, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Policy worker id -> the platform's worker and assignment ids, queue and times, for the given stints."""
    if not keys:
        return {}
    query = (
        select(Assignment, Worker.platform_worker_id)
        .join(Worker, Assignment.worker_id == Worker.id)
        .where(Assignment.project_id == project_id, Assignment.key.in_(sorted(set(keys))))
    )
    return {
        stint.key: {
            "platform_worker_id": platform_worker, "platform_assignment_id": stint.platform_assignment_id,
            "queue": stint.queue, "joined_at": _iso(stint.joined_at), "promoted_at": _iso(stint.promoted_at),
        }
        for stint, platform_worker in session.execute(query)
    }


def ready_latency(session: Session, project_id: int) -> dict[str, float | int | None]:
    """`{"count", "p50", "p90", "max"}`: seconds from promotion to the page's `ready`, over the promotions that got
    one (the event log's rows, DESIGN.md section 9)."""
    _, latencies = ready_times(session, project_id)
    return latency_summary(list(latencies.values()))
