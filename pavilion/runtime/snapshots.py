"""Read models of a project: the snapshot (API, dashboard) and each worker's `queue` message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from pavilion.core import JobState
from pavilion.runtime.models import Assignment, EventLog, Payment, Project
from pavilion.runtime.pay import earned_so_far
from pavilion.runtime.platforms.base import PlatformAssignment
from pavilion.runtime.state import state_from_json

COUNTED = ("submitted", "returned", "abandoned", "rejected")


def counts(session: Session, project_id: int) -> dict[str, int]:
    """Joined, present, how stints ended, slots hired, and stints paid (at least one ledger line paid)."""
    by_how = dict(
        session.execute(
            select(Assignment.how_left, func.count(Assignment.id))
            .where(Assignment.project_id == project_id)
            .group_by(Assignment.how_left)
        ).all()
    )
    hired = session.scalar(
        select(func.coalesce(func.sum(cast(EventLog.detail, Integer)), 0)).where(
            EventLog.project_id == project_id, EventLog.event == "hire"
        )
    )
    out = {"joined": sum(by_how.values()), "present": by_how.get(None, 0)}
    out.update({how: by_how.get(how, 0) for how in COUNTED})
    # Rejections are counted from the log: a joiner turned away before any place (full, closed) has no stint.
    out["rejected"] = int(session.scalar(select(func.count(EventLog.id)).where(
        EventLog.project_id == project_id, EventLog.event == "rejected")) or 0)
    out["hired"] = int(hired or 0)
    paid = session.scalar(
        select(func.count(func.distinct(Payment.assignment_id))).where(
            Payment.project_id == project_id, Payment.status == "paid"
        )
    )
    out["paid"] = int(paid or 0)
    return out


def snapshot(session: Session, project: Project) -> dict[str, Any]:
    """`{"id", "status", "waiting", "active", "counts", ...}`: the queues in order and the counts."""
    state = state_from_json(project.state)
    out = {
        "id": project.id,
        "name": project.name,
        "status": project.status,
        "policy": {"name": project.policy_name, **project.policy_params},
        "platform": project.platform_name,
        "waiting": list(state.waiting),
        "active": list(state.active),
        "started": state.started,
        "recruiting": state.recruiting,
        "version": project.version,
        "launched_at": project.launched_at.isoformat() if project.launched_at else None,
    }
    out["counts"] = {"waiting": len(state.waiting), "active": len(state.active), **counts(session, project.id)}
    return out


Place = tuple[str, int, int, int, int]  # queue, 1-based position, waiting size, active size, start_at: `queue` shows


def start_at(state: JobState) -> int:
    """Workers present at which the job starts, 0 once started: a policy with a waiting room (pavilion) starts when
    min_active + min_waiting wait; one without (on-demand: nobody ever waits) when min_active are seated."""
    if state.started:
        return 0
    return state.config.min_active + (state.config.min_waiting if state.waiting else 0)


def places(state: JobState) -> dict[str, Place]:
    """Every queued worker's place, by policy worker id."""
    sizes = (len(state.waiting), len(state.active), start_at(state))
    out = {key: ("waiting", i + 1, *sizes) for i, key in enumerate(state.waiting)}
    out.update({key: ("active", i + 1, *sizes) for i, key in enumerate(state.active)})
    return out


def queue_payload(place: Place, earned: Any) -> dict[str, Any]:
    """The `queue` message for a place and the pay earned so far; before the start, `start_at` and how many more
    workers are `needed` (both 0 once the job has started)."""
    queue, position, waiting, active, starts = place
    return {"queue": queue, "position": position, "waiting": waiting, "active": active, "earned_usd": float(earned),
            "start_at": starts, "needed": max(0, starts - waiting - active) if starts else 0}


def queue_message(assignment: Assignment, state: JobState, pay: dict[str, Any], now: Any) -> dict[str, Any]:
    """The `queue` message of one worker: their queue, 1-based position in it, both sizes, earned so far."""
    queue = state.queue_of(assignment.key) or ""
    members = state.waiting if queue == "waiting" else state.active
    position = members.index(assignment.key) + 1 if queue else 0
    earned = earned_so_far(pay, assignment.joined_at, assignment.promoted_at, assignment.left_at, now)
    return queue_payload((queue, position, len(state.waiting), len(state.active), start_at(state)), earned)


def platform_assignment(assignment: Assignment) -> PlatformAssignment:
    """An assignment as adapters see it."""
    return PlatformAssignment(
        key=assignment.key,
        worker_id=assignment.worker.platform_worker_id,
        assignment_id=assignment.platform_assignment_id,
        extra=dict(assignment.platform_extra),
    )
