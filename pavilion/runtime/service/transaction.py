"""The locked transaction every service event shares: lock the project, step the policy, apply, commit, then send.

Every event for a project runs under an in-process lock for that project and, in the database, under the
project row's lock (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite, which has no row locks).
Inside: load the state, `policy.step`, store the new state, the event log, assignment changes, ledger lines and
outbox rows; after commit: send the messages, then run the outbox (platform calls and payments).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavilion.core import Event, WorkerLeft, get_policy
from pavilion.runtime import effects
from pavilion.runtime.config import Clock
from pavilion.runtime.db import Database
from pavilion.runtime.errors import BadInput, NotFound
from pavilion.runtime.models import Assignment, Payment, ProcessedNotification, Project
from pavilion.runtime.notify import Notifier
from pavilion.runtime.outbox import OutboxRunner
from pavilion.runtime.pay import payout_cents
from pavilion.runtime.platforms import get_platform
from pavilion.runtime.platforms.base import CrowdPlatform, PlatformProject
from pavilion.runtime.refresh import QueueRefresher
from pavilion.runtime.snapshots import places
from pavilion.runtime.state import state_from_json, state_to_json

log = logging.getLogger(__name__)

Spawn = Callable[..., Any]


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

class ServiceBase:
    """The service's handles and the one locked step; the event methods live in projects, workers, platform_events."""

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
        # Where adapters' periodic jobs go (PlatformHost.add_periodic): create_app hands in its background loop's.
        self.scheduler: Callable[[str, float, Callable[[], Any]], None] | None = None

    # ---- platforms -------------------------------------------------------------------------------------------
    def platform_for(self, project: Project) -> CrowdPlatform:
        """The adapter for a project's platform and settings (cached)."""
        cache_key = (project.platform_name, repr(sorted(project.platform_settings.items())))
        adapter = self._platforms.get(cache_key)
        if adapter is None:
            adapter = self.platform_factory(project.platform_name, project.platform_settings, self.config)
            bind = getattr(adapter, "bind", None)
            if bind is not None:
                bind(self)  # the adapter's PlatformHost (pavilion.runtime.platforms.base)
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

    # ---- a departure's step, whichever side reports it -------------------------------------------------------
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
        # `queue` keeps the queue left from (the exports show it); presence is `left_at is None`.
        assignment.left_at, assignment.how_left, assignment.left_source = now, how, source
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
