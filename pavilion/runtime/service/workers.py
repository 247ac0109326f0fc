"""The worker's events: join (or reload), depart from any source, and where a worker stands."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.core import DEPARTURE_KINDS, WorkerJoined
from pavilion.runtime import snapshots
from pavilion.runtime.errors import BadInput, Conflict, NotFound
from pavilion.runtime.models import Assignment, EventLog, Project, Worker
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.service.transaction import ServiceBase, text_field
from pavilion.runtime.state import state_from_json


@dataclass(frozen=True)
class JoinResult:
    """The outcome of a join: the assignment key (the worker's policy id) and where it landed."""

    assignment_key: str
    queue: str  # waiting | active | '' when rejected
    rejected: str = ""  # the reject reason, if any
    created: bool = True  # False: the worker was already present (a reload)


class WorkerEvents(ServiceBase):
    """What the worker pages, the socket and the presence sweep ask of the service."""

    def join(self, project_id: int, identity: Identity) -> JoinResult:
        """A worker arrives: the same stint again (a reload) or a new assignment stepped into the policy."""
        text_field(identity.worker_id, "platform worker id", 128)
        text_field(identity.assignment_id, "platform assignment id", 128)
        with self._locked(project_id) as (session, project):
            if project.status in ("draft", "stopped"):
                what = "has not started yet" if project.status == "draft" else "has ended"
                raise Conflict(f"this session {what}")
            again = session.scalars(
                select(Assignment)
                .join(Worker, Assignment.worker_id == Worker.id)
                .where(
                    Assignment.project_id == project.id,
                    Worker.platform_name == project.platform_name,
                    Worker.platform_worker_id == identity.worker_id,
                    Assignment.left_at.is_(None),
                )
            ).first()
            if again is not None:
                if again.platform_assignment_id != identity.assignment_id:
                    # One worker, one place: a second assignment id is a forged link or a second tab, never a merge.
                    raise Conflict("this worker already holds a place in this session under another assignment")
                return JoinResult(again.key, again.queue, created=False)
            present = tuple(snapshots.platform_assignment(a) for a in self._present(session, project.id).values())
            view = dataclasses.replace(self.view(session, project), present=present)
            self.platform_for(project).admit(view, identity)
            worker = self._worker(session, project.platform_name, identity.worker_id)
            now = self.clock()
            assignment = Assignment(
                key=secrets.token_hex(8),
                project_id=project.id,
                worker_id=worker.id,
                platform_assignment_id=identity.assignment_id,
                platform_extra=dict(identity.extra),
                joined_at=now,
            )
            session.add(assignment)
            session.flush()
            ctx = self._step(session, project, lambda t: WorkerJoined(assignment.key, at=t), now, assignment)
            result = JoinResult(assignment.key, assignment.queue, assignment.detail if assignment.left_at else "")
        self._finish(ctx)
        return result

    def turned_away(self, project_id: int, reason: str) -> None:
        """A joiner the platform turned away before any place (full, closed): one `rejected` row, counted."""
        text_field(reason, "reason", 40)
        with self._locked(project_id) as (session, project):
            now = self.clock()
            time_s = (now - project.launched_at).total_seconds() if project.launched_at else 0.0
            session.add(EventLog(project_id=project.id, at=now, time_s=time_s, worker="", event="rejected",
                                 queue="", detail=reason))
        self.refresher.touch(project_id)

    def _worker(self, session: Session, platform_name: str, platform_worker_id: str) -> Worker:
        worker = session.scalars(
            select(Worker).where(Worker.platform_name == platform_name, Worker.platform_worker_id == platform_worker_id)
        ).one_or_none()
        if worker is None:
            worker = Worker(platform_name=platform_name, platform_worker_id=platform_worker_id, created_at=self.clock())
            session.add(worker)
            session.flush()
        return worker

    def depart(
        self,
        project_id: int,
        assignment_key: str,
        how: str,
        source: str,
        notification_key: str | None = None,
        check: Callable[[Project, Assignment, datetime], None] | None = None,
    ) -> bool:
        """One departure = one policy event, whichever source (socket, platform, reconcile) reports it first.

        `check(project, assignment, now)` runs under the project's lock before anything is written and may refuse
        by raising (the worker's own `leave` has rules of its own). Returns False when it was already recorded (or
        the notification was already processed)."""
        if how not in DEPARTURE_KINDS:
            raise BadInput(f"how must be one of {', '.join(DEPARTURE_KINDS)}, got {how!r}")
        text_field(assignment_key, "assignment key", 32)
        text_field(source, "source", 16)
        if notification_key is not None:
            text_field(notification_key, "notification key", 200)
        with self._locked(project_id) as (session, project):
            if notification_key is not None and not self._first_notice(session, project.id, notification_key):
                return False
            assignment = session.scalars(
                select(Assignment).where(Assignment.project_id == project.id, Assignment.key == assignment_key)
            ).one_or_none()
            if assignment is None:
                raise NotFound(f"no assignment {assignment_key!r} in project {project_id}")
            if check is not None:
                check(project, assignment, self.clock())
            if assignment.left_at is not None:
                return False
            ctx = self._leave(session, project, assignment, how, source)
        self._finish(ctx)
        return True

    def ready(self, project_id: int, assignment_key: str) -> bool:
        """The promoted worker's page acknowledged `promoted`: one `ready` row in the event log (DESIGN section 9).

        Only the first acknowledgement of a stint is logged (a reload is promoted again and answers again).
        Returns False when the stint was not active or was already logged."""
        text_field(assignment_key, "assignment key", 32)
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            assignment = session.scalars(
                select(Assignment).where(Assignment.project_id == project.id, Assignment.key == assignment_key)
            ).one_or_none()
            if (assignment is None or assignment.left_at is not None or assignment.queue != "active"
                    or project.launched_at is None):
                return False
            logged = session.scalar(
                select(EventLog.id).where(
                    EventLog.project_id == project.id, EventLog.worker == assignment_key, EventLog.event == "ready"
                )
            )
            if logged is not None:
                return False
            now = self.clock()
            time_s = (now - project.launched_at).total_seconds()
            session.add(EventLog(project_id=project.id, at=now, time_s=time_s, worker=assignment_key,
                                 event="ready", queue="active", detail=""))
        return True

    def worker_status(self, project_id: int, assignment_key: str) -> dict[str, Any]:
        """One worker's view (for a page load or a socket connect): their `queue` message plus where they stand.

        Keys: queue, position, waiting, active, earned_usd (as the `queue` message), and status (`draft`, `live`,
        `expired`, `stopped`: the project's), left (bool), how_left, url (the live task, once promoted)."""
        text_field(assignment_key, "assignment key", 32)
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            assignment = session.scalars(
                select(Assignment).where(Assignment.project_id == project.id, Assignment.key == assignment_key)
            ).one_or_none()
            if assignment is None:
                raise NotFound(f"no assignment {assignment_key!r} in project {project_id}")
            state = state_from_json(project.state)
            out = snapshots.queue_message(assignment, state, project.pay, self.clock())
            out.update(status=project.status, left=assignment.left_at is not None, how_left=assignment.how_left or "")
            out["url"] = self.task_url(project, assignment) if out["queue"] == "active" else ""
            return out

    def present(self, project_id: int) -> list[str]:
        """Assignment keys of the workers still present in a project (for the presence sweep)."""
        with self.db.session_scope() as session:
            return sorted(self._present(session, project_id))
