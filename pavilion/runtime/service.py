"""PolicyService: the only place that changes queues. One locked transaction per event, then messages and outbox.

Every event for a project runs under an in-process lock for that project and, in the database, under the
project row's lock (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite, which has no row locks).
Inside: load the state, `policy.step`, store the new state, the event log, assignment changes, ledger lines and
outbox rows; after commit: send the messages, then run the outbox (platform calls and payments).

Entry points: researchers `create_project`, `update_draft`, `launch`, `stop`, `expire`, `migrate`, `snapshot`;
workers `join`, `depart` (source socket|presence|...), `worker_status`, `present`; platforms `platform_departure`
(notifications, de-duplicated by key), `reconcile`/`reconcile_all`, `platform_view`. Refusals raise
pavilion.runtime.errors (BadInput 400, NotFound 404, Conflict 409) before anything is written.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavilion.core import (
    DEPARTURE_KINDS,
    Event,
    ExpireRequested,
    JobLaunched,
    MigrationRequested,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
    get_policy,
)
from pavilion.runtime import effects, snapshots
from pavilion.runtime.config import Clock
from pavilion.runtime.db import Database
from pavilion.runtime.errors import BadInput, Conflict, NotFound
from pavilion.runtime.models import Assignment, Payment, ProcessedNotification, Project, Worker
from pavilion.runtime.notify import Notifier
from pavilion.runtime.outbox import OutboxRunner
from pavilion.runtime.pay import payout_cents
from pavilion.runtime.platforms import get_platform
from pavilion.runtime.platforms.base import CrowdPlatform, Departure, Identity, PlatformProject
from pavilion.runtime.projects import ProjectSpec
from pavilion.runtime.refresh import QueueRefresher
from pavilion.runtime.snapshots import places
from pavilion.runtime.state import state_from_json, state_to_json

log = logging.getLogger(__name__)

Spawn = Callable[..., Any]


@dataclass(frozen=True)
class JoinResult:
    """The outcome of a join: the assignment key (the worker's policy id) and where it landed."""

    assignment_key: str
    queue: str  # waiting | active | '' when rejected
    rejected: str = ""  # the reject reason, if any
    created: bool = True  # False: the worker was already present (a reload)


class ProjectLocks:
    """One re-entrant lock per project, so a process never waits on its own database lock."""

    def __init__(self) -> None:
        self._locks: dict[int, threading.RLock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, project_id: int) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(project_id, threading.RLock())
        with lock:
            yield


MAX_DB_INT = 2**31 - 1  # projects.id is a 32-bit integer on PostgreSQL


def text_field(value: Any, name: str, limit: int) -> str:
    """A non-empty string of at most `limit` characters, or BadInput naming the field."""
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters")
    return value


def _status(state: Any) -> str:
    if state.stopped:
        return "stopped"
    if state.expired:
        return "expired"
    return "live" if state.launched else "draft"


def _inline(fn: Callable[..., Any], *args: Any) -> None:
    fn(*args)


class PolicyService:
    """Launch, join, depart, stop, expire, migrate, snapshot; see the module docstring for the transaction shape."""

    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        clock: Clock,
        config: Mapping[str, Any],
        spawn: Spawn = _inline,
        platform_factory: Callable[[str, Mapping[str, Any], Mapping[str, Any]], CrowdPlatform] = get_platform,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.config = config
        self.spawn = spawn  # runs the outbox after an event (inline in tests; a background task when serving)
        self.platform_factory = platform_factory  # tests may hand in their own adapters
        self.locks = ProjectLocks()
        self._platforms: dict[tuple[str, str], CrowdPlatform] = {}
        self.outbox = OutboxRunner(db, self.platform_for, self.view, clock)
        self.refresher = QueueRefresher(db, notifier, clock)
        self.refresh_inline = True  # tests: workers hear at once; serving: a background task runs the refresher
        # How a promoted worker reaches the live task; the worker package may replace it.
        self.task_url: Callable[[Project, Assignment], str] = lambda project, a: str(project.task.get("url", ""))

    # ---- platforms -------------------------------------------------------------------------------------------
    def platform_for(self, project: Project) -> CrowdPlatform:
        """The adapter for a project's platform and settings (cached)."""
        cache_key = (project.platform_name, repr(sorted(project.platform_settings.items())))
        adapter = self._platforms.get(cache_key)
        if adapter is None:
            adapter = self.platform_factory(project.platform_name, project.platform_settings, self.config)
            self._platforms[cache_key] = adapter
        return adapter

    def view(self, session: Session, project: Project) -> PlatformProject:
        """What the adapter sees of a project, with the count of slots held."""
        occupied = session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.project_id == project.id,
                (Assignment.left_at.is_(None)) | (Assignment.how_left == "submitted"),
            )
        )
        return PlatformProject(
            id=project.id,
            name=project.name,
            settings=dict(project.platform_settings),
            state=dict(project.platform_state),
            task=dict(project.task),
            pay=dict(project.pay),
            public_url=str(self.config.get("PUBLIC_URL", "")),
            status=project.status,
            occupied=int(occupied or 0),
        )

    def platform_view(self, project_id: int) -> tuple[CrowdPlatform, PlatformProject]:
        """The adapter and view of a project, for the worker pages (identify, submit_target)."""
        with self.db.session_scope() as session:
            project = self._get(session, project_id)
            return self.platform_for(project), self.view(session, project)

    # ---- projects --------------------------------------------------------------------------------------------
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

    @staticmethod
    def _get(session: Session, project_id: int, lock: bool = False) -> Project:
        if not isinstance(project_id, int) or isinstance(project_id, bool):
            raise BadInput(f"project id must be an integer, got {project_id!r}")
        if not 0 < project_id <= MAX_DB_INT:
            raise NotFound(f"no project {project_id}")
        query = select(Project).where(Project.id == project_id)
        project = session.scalars(query.with_for_update() if lock else query).one_or_none()
        if project is None:
            raise NotFound(f"no project {project_id}")
        return project

    # ---- the locked step -------------------------------------------------------------------------------------
    @contextmanager
    def _locked(self, project_id: int) -> Iterator[tuple[Session, Project]]:
        with self.locks.hold(project_id), self.db.session_scope(lock=True) as session:
            yield session, self._get(session, project_id, lock=True)

    def _present(self, session: Session, project_id: int) -> dict[str, Assignment]:
        rows = session.scalars(
            select(Assignment).where(Assignment.project_id == project_id, Assignment.left_at.is_(None))
        )
        return {a.key: a for a in rows}

    def _step(
        self,
        session: Session,
        project: Project,
        make_event: Callable[[float], Event],
        now: datetime,
        joiner: Assignment | None = None,
        source: str = "",
    ) -> effects.StepContext:
        """Run one policy step inside the locked transaction; log the event and apply the actions.

        Only the assignments whose queue the step changes are loaded (and the joiner's), so a step costs the same
        with 10 workers present as with 1,000."""
        time_s = (now - project.launched_at).total_seconds() if project.launched_at else 0.0
        state = state_from_json(project.state)
        event = make_event(time_s)
        new_state, actions = get_policy(project.policy_name).step(state, event)
        before, after = places(state), places(new_state)
        moved = {key for key in before.keys() | after.keys() if before.get(key, ("",))[0] != after.get(key, ("",))[0]}
        changed = self._assignments(session, project.id, moved - {joiner.key} if joiner else moved)
        if joiner is not None:
            changed[joiner.key] = joiner
        ctx = effects.StepContext(
            session, project, changed, now, time_s, project.version + 1, self.task_url, source=source
        )
        effects.log_event(ctx, event, state, new_state, actions)
        effects.apply(ctx, actions)
        for key, assignment in ctx.present.items():
            queue = new_state.queue_of(key) or ""
            if queue == "active" and assignment.promoted_at is None:
                effects.seat(ctx, assignment, "direct")  # policies that seat a joiner at once (on-demand)
            assignment.queue = queue
        ctx.write_log()
        project.state = state_to_json(new_state)
        project.version += 1
        project.status = _status(new_state)
        return ctx

    @staticmethod
    def _assignments(session: Session, project_id: int, keys: set[str]) -> dict[str, Assignment]:
        """The present assignments among `keys`, in one query."""
        if not keys:
            return {}
        rows = session.scalars(
            select(Assignment).where(
                Assignment.project_id == project_id, Assignment.left_at.is_(None), Assignment.key.in_(sorted(keys))
            )
        )
        return {a.key: a for a in rows}

    def _finish(self, ctx: effects.StepContext) -> None:
        """After commit: send the step's messages, then run its outbox rows."""
        for send in ctx.after:
            try:
                send(self.notifier)
            except Exception:  # a lost message is recovered by the page's next snapshot
                log.exception("notification failed for project %s", ctx.project.id)
        self.refresher.touch(ctx.project.id)
        if self.refresh_inline:
            self.refresh()
        if ctx.outbox:
            self.spawn(self.outbox.run, ctx.project.id)

    def refresh(self) -> int:
        """Send the coalesced `queue` messages and snapshots of the projects touched since the last refresh."""
        try:
            return self.refresher.run()
        except Exception:  # pages catch up on their next heartbeat
            log.exception("queue refresh failed")
            return 0

    # ---- researcher events -----------------------------------------------------------------------------------
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

    # ---- workers ---------------------------------------------------------------------------------------------
    def join(self, project_id: int, identity: Identity) -> JoinResult:
        """A worker arrives: the same stint again (a reload) or a new assignment stepped into the policy."""
        text_field(identity.worker_id, "platform worker id", 128)
        text_field(identity.assignment_id, "platform assignment id", 128)
        with self._locked(project_id) as (session, project):
            if project.status in ("draft", "stopped"):
                what = "has not started yet" if project.status == "draft" else "has ended"
                raise Conflict(f"this session {what}")
            worker = self._worker(session, project.platform_name, identity.worker_id)
            again = session.scalars(
                select(Assignment).where(
                    Assignment.project_id == project.id,
                    Assignment.worker_id == worker.id,
                    Assignment.left_at.is_(None),
                )
            ).first()
            if again is not None:
                return JoinResult(again.key, again.queue, created=False)
            self.platform_for(project).admit(self.view(session, project), identity)
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

    def _first_notice(self, session: Session, project_id: int, key: str) -> bool:
        seen = session.scalar(select(ProcessedNotification.id).where(ProcessedNotification.key == key))
        if seen is not None:
            return False
        session.add(ProcessedNotification(key=key, project_id=project_id, received_at=self.clock()))
        return True

    def _leave(
        self, session: Session, project: Project, assignment: Assignment, how: str, source: str
    ) -> effects.StepContext:
        now = self.clock()
        key = assignment.key
        assignment.left_at, assignment.how_left, assignment.left_source, assignment.queue = now, how, source, ""
        def leave(t: float) -> Event:
            return WorkerLeft(key, at=t, how=how)  # type: ignore[arg-type]

        ctx = self._step(session, project, leave, now, source=source)
        if how == "submitted":
            self._ledger(ctx, assignment)
        return ctx

    def _ledger(self, ctx: effects.StepContext, assignment: Assignment) -> None:
        """Ledger lines for a submitted stint, pending, each with an outbox row that pays it."""
        assert assignment.left_at is not None
        lines = payout_cents(ctx.project.pay, assignment.joined_at, assignment.promoted_at, assignment.left_at)
        payments = [
            Payment(
                project_id=ctx.project.id,
                assignment_id=assignment.id,
                kind=kind,
                amount_cents=cents,
                key=f"pay-{assignment.key}-{kind}",
                created_at=ctx.now,
            )
            for kind, cents in lines.items()
            if cents > 0
        ]
        ctx.session.add_all(payments)
        ctx.session.flush()  # one round trip gives every line its id, which its outbox row names
        for payment in payments:
            ctx.record_outside("pay", {"payment_id": payment.id}, key=payment.key)

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
