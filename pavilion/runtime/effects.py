"""One table from each core action to its effect: what is recorded in the step's transaction, what is sent after it.

Inside the transaction an effect updates assignments, appends to the event log and records outside calls in the
outbox; the messages it queues in `StepContext.after` are sent only once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pavilion.core import (
    Action,
    Event,
    ExpireRecruitment,
    Hire,
    JobLaunched,
    JobState,
    MigrationRequested,
    Promote,
    Reject,
    StopAll,
    WorkerJoined,
    WorkerLeft,
)
from pavilion.runtime.models import Assignment, EventLog, Outbox, Project
from pavilion.runtime.notify import Notifier


@dataclass
class StepContext:
    """Everything one policy step's effects need, inside the project's locked transaction."""

    session: Session
    project: Project
    present: dict[str, Assignment]  # the assignments this step moves between queues, by key (policy worker ids)
    now: datetime
    time_s: float  # seconds since launch
    version: int  # the project's version after this step (makes outbox keys unique and stable)
    task_url: Callable[[Project, Assignment], str]
    after: list[Callable[[Notifier], None]] = field(default_factory=list)
    outbox: list[Outbox] = field(default_factory=list)
    source: str = ""  # who reported a departure: socket | platform | reconcile | admin
    promote_detail: str = ""  # "migration" when the researcher asked for it
    rows: list[dict[str, Any]] = field(default_factory=list)  # event log rows, written together by write_log()

    def log(self, event: str, worker: str = "", queue: str = "", detail: str = "") -> None:
        """Add one row to the step's event log (written by `write_log`, in order)."""
        self.rows.append(
            {
                "project_id": self.project.id,
                "at": self.now,
                "time_s": self.time_s,
                "worker": worker,
                "event": event,
                "queue": queue,
                "detail": detail,
            }
        )

    def write_log(self) -> None:
        """Append the step's rows to the event log in one statement (they need no ids back)."""
        if self.rows:
            self.session.execute(insert(EventLog), self.rows)
            self.rows = []

    def record_outside(self, kind: str, payload: dict[str, Any], key: str | None = None) -> Outbox:
        """Record an outside call before it runs; `key` (default: project, version, index) is its idempotency key."""
        key = key or f"p{self.project.id}-v{self.version}-{len(self.outbox)}-{kind}"
        row = Outbox(project_id=self.project.id, kind=kind, payload=payload, key=key, created_at=self.now)
        self.session.add(row)
        self.outbox.append(row)
        return row


def _hire(ctx: StepContext, action: Hire) -> None:
    ctx.record_outside("hire", {"count": action.count})
    ctx.log("hire", detail=str(action.count))


def seat(ctx: StepContext, assignment: Assignment, detail: str = "") -> None:
    """Put a worker on the live task: mark the time, log it, and tell that worker only where to go."""
    assignment.queue = "active"
    assignment.promoted_at = ctx.now
    url = ctx.task_url(ctx.project, assignment)
    key = assignment.key
    ctx.log("promoted", worker=key, queue="active", detail=detail)
    ctx.after.append(lambda n: n.to_worker(key, "promoted", {"url": url}))


def _promote(ctx: StepContext, action: Promote) -> None:
    seat(ctx, ctx.present[action.worker_id], ctx.promote_detail)


def _reject(ctx: StepContext, action: Reject) -> None:
    assignment = ctx.present.pop(action.worker_id)
    assignment.queue = ""
    assignment.left_at = ctx.now
    assignment.how_left = "rejected"
    assignment.left_source = "policy"
    assignment.detail = action.reason
    ctx.log("rejected", worker=action.worker_id, detail=action.reason)
    ctx.after.append(lambda n: n.to_worker(action.worker_id, "rejected", {"reason": action.reason}))


def _stop_all(ctx: StepContext, action: StopAll) -> None:
    ctx.record_outside("stop", {})
    ctx.log("stop")
    keys = list(
        ctx.session.scalars(
            select(Assignment.key).where(Assignment.project_id == ctx.project.id, Assignment.left_at.is_(None))
        )
    )

    def tell_everyone(notifier: Notifier) -> None:
        for key in keys:
            notifier.to_worker(key, "stop", {})

    ctx.after.append(tell_everyone)


def _expire(ctx: StepContext, action: ExpireRecruitment) -> None:
    ctx.record_outside("expire", {})
    ctx.log("expire")


EFFECTS: dict[type, Callable[[StepContext, Any], None]] = {
    Hire: _hire,
    Promote: _promote,
    Reject: _reject,
    StopAll: _stop_all,
    ExpireRecruitment: _expire,
}


def log_event(ctx: StepContext, event: Event, before: JobState, after: JobState, actions: list[Action]) -> None:
    """The event's own log row (researcher requests are logged through their actions: hire, stop, expire)."""
    if isinstance(event, JobLaunched) and after.launched and not before.launched:
        ctx.log("launched")
    elif isinstance(event, WorkerJoined):
        promoted = any(isinstance(a, Promote) and a.worker_id == event.worker_id for a in actions)
        queue = "waiting" if promoted else (after.queue_of(event.worker_id) or "")
        ctx.log("joined", worker=event.worker_id, queue=queue)
    elif isinstance(event, WorkerLeft):
        ctx.log(event.how, worker=event.worker_id, queue=before.queue_of(event.worker_id) or "", detail=ctx.source)
    elif isinstance(event, MigrationRequested):
        ctx.promote_detail = "migration"


def apply(ctx: StepContext, actions: list[Action]) -> None:
    """Carry out every action of one step, in the policy's order."""
    for action in actions:
        EFFECTS[type(action)](ctx, action)
