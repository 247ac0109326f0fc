"""The researcher's commands: create and edit a draft, launch, stop, expire, migrate a worker, snapshot."""

from __future__ import annotations

from typing import Any

from pavilion.core import ExpireRequested, JobLaunched, MigrationRequested, StopRequested, get_policy
from pavilion.runtime import snapshots
from pavilion.runtime.errors import BadInput, Conflict
from pavilion.runtime.models import Project
from pavilion.runtime.projects import ProjectSpec
from pavilion.runtime.service.transaction import ServiceBase, text_field
from pavilion.runtime.state import state_from_json, state_to_json


class ProjectCommands(ServiceBase):
    """What the API and the admin pages ask of a project; each event is one locked step."""

    def create_project(self, spec: ProjectSpec, owner_id: int | None = None) -> int:
        """Store a new draft project with the policy's initial state; returns its id."""
        state = get_policy(spec.policy_name).initial_state(spec.queues)
        with self.db.session_scope(lock=True) as session:
            project = Project(
                name=spec.name,
                owner_id=owner_id,
                policy_name=spec.policy_name,
                policy_params=state_to_json(state)["config"],
                platform_name=spec.platform_name,
                platform_settings=spec.platform_settings,
                platform_state={},
                task=spec.task,
                pay=spec.pay,
                status="draft",
                state=state_to_json(state),
                version=0,
                created_at=self.clock(),
            )
            session.add(project)
            session.flush()
            return project.id

    def update_draft(self, project_id: int, spec: ProjectSpec) -> None:
        """Replace a draft's settings (its state becomes the new initial state); Conflict once it has launched."""
        state = get_policy(spec.policy_name).initial_state(spec.queues)
        with self._locked(project_id) as (_, project):
            if project.status != "draft" or project.version != 0:
                raise Conflict(f"project {project_id} is {project.status}; only a draft can be edited")
            project.name, project.policy_name = spec.name, spec.policy_name
            project.policy_params, project.state = state_to_json(state)["config"], state_to_json(state)
            project.platform_name, project.platform_settings = spec.platform_name, spec.platform_settings
            project.pay, project.task = spec.pay, spec.task

    def snapshot(self, project_id: int) -> dict[str, Any]:
        """The project's queues and counts, as the API and the dashboard show them."""
        with self.db.session_scope() as session:
            return snapshots.snapshot(session, self._get(session, project_id))
    def launch(self, project_id: int) -> dict[str, Any]:
        """Start recruiting: the policy hires its first workers."""
        with self._locked(project_id) as (session, project):
            if project.status != "draft":
                raise Conflict(f"project {project_id} is {project.status}; only a draft project can be launched")
            now = self.clock()
            project.launched_at = now
            ctx = self._step(session, project, lambda t: JobLaunched(at=t), now)
            snap = snapshots.snapshot(session, project)
        self._finish(ctx)
        return snap

    def stop(self, project_id: int) -> dict[str, Any]:
        """End the job: every worker is told to submit; nobody more is hired."""
        with self._locked(project_id) as (session, project):
            if project.status == "stopped":
                raise Conflict(f"project {project_id} is already stopped")
            now = self.clock()
            project.stopped_at = now
            ctx = self._step(session, project, lambda t: StopRequested(at=t), now)
            snap = snapshots.snapshot(session, project)
        self._finish(ctx)
        return snap

    def expire(self, project_id: int) -> dict[str, Any]:
        """Close recruitment; workers present stay."""
        with self._locked(project_id) as (session, project):
            if project.status != "live":
                raise Conflict(f"project {project_id} is {project.status}; only a live project can expire")
            ctx = self._step(session, project, lambda t: ExpireRequested(at=t), self.clock())
            snap = snapshots.snapshot(session, project)
        self._finish(ctx)
        return snap

    def migrate(self, project_id: int, worker_id: str, force: bool = False) -> dict[str, Any]:
        """Move a waiting worker (by assignment key) to the active queue; Conflict when the policy refuses."""
        text_field(worker_id, "worker_id", 32)
        if not isinstance(force, bool):
            raise BadInput("force must be true or false")
        with self._locked(project_id) as (session, project):
            if project.status == "stopped":
                raise Conflict(f"project {project_id} is stopped")
            if worker_id not in state_from_json(project.state).waiting:
                raise Conflict(f"worker {worker_id!r} is not in the waiting queue of project {project_id}")
            ctx = self._step(session, project, lambda t: MigrationRequested(worker_id, at=t, force=force), self.clock())
            if state_from_json(project.state).queue_of(worker_id) != "active":
                raise Conflict("the active queue is full; pass force=true to promote anyway")
            snap = snapshots.snapshot(session, project)
        self._finish(ctx)
        return snap
