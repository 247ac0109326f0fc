"""A worker's stint as the pages and the namespace see it, read from the database with the server clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pavilion.runtime import snapshots
from pavilion.runtime.context import Runtime
from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.pay import payout_cents
from pavilion.runtime.platforms.base import SubmitForm
from pavilion.runtime.state import state_from_json
from pavilion.runtime.tokens import WorkerClaim

DEFAULT_MAX_WAITING_S = 600.0  # a waiting worker may leave with pay after this, unless the project says otherwise


class StintError(Exception):
    """The claim names no stint this worker holds; the message is for the worker, `status` for HTTP."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stint:
    """Everything a page or a socket handler needs to know about one worker's stint, now."""

    project_id: int
    project_name: str
    project_status: str  # draft | live | expired | stopped
    key: str
    queue: str  # waiting | active | '' (left, or not in a queue)
    how_left: str | None  # submitted | returned | abandoned | rejected | None while present
    detail: str  # e.g. the reject reason
    message: dict[str, Any]  # the `queue` message, earned pay from the server clock
    task_url: str  # where a promoted worker works ('' -> the built-in demo task)
    task: dict[str, Any]
    pay: dict[str, Any]
    waited_s: float
    max_waiting_s: float
    submit: SubmitForm | None = field(default=None)
    joined_at: datetime | None = None  # with promoted_at and left_at: what earned pay is computed from
    promoted_at: datetime | None = None
    left_at: datetime | None = None
    platform: str = "local"  # how the pay reaches the worker (the thank-you page says so)
    owed_usd: float | None = None  # a submitted stint's whole pay (reward and wages), as its ledger lines hold

    @property
    def present(self) -> bool:
        return self.how_left is None

    @property
    def page_state(self) -> str:
        """The page's `data-state`: waiting | active | stopped | rejected."""
        if self.how_left == "rejected":
            return "rejected"
        if self.how_left is not None or self.project_status == "stopped":
            return "stopped"
        return self.queue if self.queue in ("waiting", "active") else "stopped"

    @property
    def leave_in_s(self) -> float:
        """Seconds until a waiting worker may leave and get paid (0: now)."""
        return max(0.0, self.max_waiting_s - self.waited_s)


def max_waiting_s(task: dict[str, Any]) -> float:
    """The project's waiting time after which 'leave and get paid' is offered."""
    value = task.get("max_waiting_s")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else DEFAULT_MAX_WAITING_S


def _assignment(session: Any, claim: WorkerClaim) -> tuple[Project, Assignment]:
    project = session.get(Project, claim.project_id)
    if project is None:
        raise StintError(f"there is no session {claim.project_id}", 404)
    assignment = session.scalars(
        select(Assignment)
        .options(joinedload(Assignment.worker))
        .where(Assignment.project_id == project.id, Assignment.key == claim.assignment_key)
    ).one_or_none()
    if assignment is None:
        raise StintError("this link names no place in this session", 404)
    if assignment.worker.platform_worker_id != claim.worker_id:
        raise StintError("this link belongs to another worker", 403)
    return project, assignment


def load_stint(runtime: Runtime, claim: WorkerClaim, with_submit: bool = False) -> Stint:
    """The stint a valid token names; StintError if it does not exist or is another worker's."""
    with runtime.db.session_scope() as session:
        project, assignment = _assignment(session, claim)
        now: datetime = runtime.clock()
        state = state_from_json(project.state)
        submit = None
        if with_submit:
            adapter = runtime.service.platform_for(project)
            view = runtime.service.view(session, project)
            submit = adapter.submit_target(view, snapshots.platform_assignment(assignment))
        waited_until = assignment.promoted_at or assignment.left_at or now
        return Stint(
            project_id=project.id,
            project_name=project.name,
            project_status=project.status,
            key=assignment.key,
            queue=assignment.queue if assignment.left_at is None else "",
            how_left=assignment.how_left if assignment.left_at is not None else None,
            detail=assignment.detail,
            message=snapshots.queue_message(assignment, state, project.pay, now),
            task_url=runtime.service.task_url(project, assignment) if assignment.promoted_at else "",
            task=dict(project.task),
            pay=dict(project.pay),
            waited_s=max(0.0, (waited_until - assignment.joined_at).total_seconds()),
            max_waiting_s=max_waiting_s(project.task),
            submit=submit,
            joined_at=assignment.joined_at,
            promoted_at=assignment.promoted_at,
            left_at=assignment.left_at,
            platform=project.platform_name,
            owed_usd=_owed_usd(project.pay, assignment),
        )


def _owed_usd(pay: dict[str, Any], assignment: Assignment) -> float | None:
    """What a submitted stint is owed in all, computed as the ledger computes it; None for any other stint."""
    if assignment.left_at is None or assignment.how_left != "submitted":
        return None
    cents = payout_cents(pay, assignment.joined_at, assignment.promoted_at, assignment.left_at)
    return sum(cents.values()) / 100
