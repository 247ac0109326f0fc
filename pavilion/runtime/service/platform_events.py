"""Platform events: departures the platforms report (notifications, webhooks), reconciliation, platform views."""

from __future__ import annotations

import logging

from sqlalchemy import select

from pavilion.core import DEPARTURE_KINDS
from pavilion.runtime import snapshots
from pavilion.runtime.errors import BadInput
from pavilion.runtime.models import Assignment, Project, Worker
from pavilion.runtime.platforms.base import CrowdPlatform, Departure, PlatformProject
from pavilion.runtime.service.transaction import ServiceBase, text_field

log = logging.getLogger(__name__)


class PlatformEvents(ServiceBase):
    """What the adapters' consumers and the reconciliation loop ask of the service."""

    def platform_view(self, project_id: int) -> tuple[CrowdPlatform, PlatformProject]:
        """The adapter and view of a project, for the worker pages (identify, submit_target)."""
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            return self.platform_for(project), self.view(session, project)

    def platform_departure(self, project_id: int, departure: Departure, source: str = "platform") -> bool:
        """A departure reported by the platform (notification or reconciliation), matched by platform ids."""
        if departure.how not in DEPARTURE_KINDS:
            raise BadInput(f"how must be one of {', '.join(DEPARTURE_KINDS)}, got {departure.how!r}")
        text_field(departure.key, "notification key", 200)
        text_field(source, "source", 16)
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
            return list(session.scalars(select(Project.id).where(Project.status.in_(("live", "expired", "stopped")))))
