"""Platform events and the PlatformHost: reported departures, reconciliation, views and lookups for the adapters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from pavilion.core import DEPARTURE_KINDS
from pavilion.runtime import snapshots
from pavilion.runtime.errors import BadInput
from pavilion.runtime.models import Assignment, Project, Worker
from pavilion.runtime.platforms.base import CrowdPlatform, Departure, PlatformProject
from pavilion.runtime.service.transaction import ServiceBase, text_field

log = logging.getLogger(__name__)
LIVE = ("live", "expired", "stopped")  # statuses whose workers or outbox may still need the background loop


class PlatformEvents(ServiceBase):
    """What the adapters and the reconciliation loop ask of the service; together, the adapters' PlatformHost."""

    def platform_view(self, project_id: int) -> tuple[CrowdPlatform, PlatformProject]:
        """The adapter and view of a project, for the worker pages (identify, submit_target)."""
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            return self.platform_for(project), self.view(session, project)

    def platform_departure(self, project_id: int, departure: Departure, source: str = "notification") -> bool:
        """A departure reported by the platform (notification or reconciliation), matched by platform ids."""
        if departure.how not in DEPARTURE_KINDS:
            raise BadInput(f"how must be one of {', '.join(DEPARTURE_KINDS)}, got {departure.how!r}")
        text_field(departure.key, "notification key", 200)
        text_field(source, "source", 16)
        if departure.timed_out:
            source = "timeout"  # the event log tells a platform time limit from a worker who went away
        with self._locked(project_id) as (session, project):
            if not self._first_notice(session, project.id, departure.key):
                return False
            assignment = session.scalars(
                select(Assignment)
                .join(Worker)
                .where(
                    Assignment.project_id == project.id,
                    Assignment.left_at.is_(None),
                    Assignment.platform_assignment_id == departure.assignment_id,
                    Worker.platform_worker_id == departure.worker_id,
                )
            ).one_or_none()
            if assignment is None:
                return False  # already gone, or never joined our queues (kept as processed)
            ctx = self._leave(session, project, assignment, departure.how, source)
            # The worker's page may still be open (a return on the platform's site, a time-out): it stops counting
            # pay and says why (DESIGN.md section 7). Sent only after commit, to that worker's room.
            key, how = assignment.key, departure.how
            ctx.after.append(lambda n: n.to_worker(key, "left", {"how": how}))
        self._finish(ctx)
        return True

    def reconcile(self, project_id: int) -> int:
        """Ask the platform which present assignments have ended; feed each as a departure. Returns how many."""
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            adapter, view = self.platform_for(project), self.view(session, project)
            present = [snapshots.platform_assignment(a) for a in self._present(session, project.id).values()]
        if not present:
            return 0
        departures = adapter.reconcile(view, present)
        return sum(self.platform_departure(project_id, d, source="reconcile") for d in departures)

    def reconcile_all(self) -> int:
        """Reconcile every project that may still have workers; one failing platform never stops the others."""
        found = 0
        for project_id in self.live_project_ids():
            try:
                found += self.reconcile(project_id)
            except Exception:
                log.exception("reconciliation of project %s failed", project_id)
        return found

    def live_project_ids(self) -> list[int]:
        """Projects whose workers or outbox may still need the background loop."""
        with self.db.session_scope() as session:
            return list(session.scalars(select(Project.id).where(Project.status.in_(LIVE))))

    # ---- the rest of the PlatformHost (pavilion.runtime.platforms.base) ------------------------------------------
    def add_periodic(self, name: str, every_s: float, fn: Callable[[], Any]) -> None:
        """An adapter's job for the background loop (one per name), e.g. a notification consumer."""
        if self.scheduler is None:
            raise RuntimeError(f"no background loop to run the periodic job {name!r}")
        self.scheduler(name, every_s, fn)

    def platform_projects(self, platform: str) -> list[PlatformProject]:
        """The views of a platform's projects that may still have workers, oldest first."""
        with self.db.session_scope() as session:
            query = select(Project).where(Project.platform_name == platform, Project.status.in_(LIVE))
            return [self.view(session, project) for project in session.scalars(query.order_by(Project.id))]

    def stints(self, project_id: int, assignment_id: str) -> list[tuple[str, datetime]]:
        """(platform worker id, joined at) of the present stints holding a platform assignment id, oldest first."""
        with self.db.session_scope() as session:
            rows = session.execute(
                select(Worker.platform_worker_id, Assignment.joined_at)
                .join(Worker, Assignment.worker_id == Worker.id)
                .where(
                    Assignment.project_id == project_id,
                    Assignment.left_at.is_(None),
                    Assignment.platform_assignment_id == assignment_id,
                )
                .order_by(Assignment.joined_at, Assignment.id)
            ).all()
        return [(str(worker), joined) for worker, joined in rows]

    def journal_engine(self) -> Engine:
        """The database engine, for an adapter's own table (the Prolific bonus journal)."""
        return self.db.engine
