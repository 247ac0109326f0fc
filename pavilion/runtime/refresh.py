"""Coalesced `queue` messages and dashboard snapshots: after events, each worker whose place changed hears once.

A promotion shifts every waiting worker's position, so telling everyone after every event costs O(workers) per
event and delays the next event's `promoted` behind the fan-out. Instead the service marks a project touched
after each commit; `run()` (inline in tests, every `QUEUE_REFRESH_S` when serving) sends one `queue` message to
each worker whose queue, position or queue sizes differ from what that worker was last told, and one snapshot to
the project's admins. Pay earned is recomputed from the server clock in every message and on every heartbeat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pavilion.runtime import snapshots
from pavilion.runtime.db import Database
from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.notify import Notifier
from pavilion.runtime.pay import earned_so_far
from pavilion.runtime.snapshots import Place, places, queue_payload
from pavilion.runtime.state import state_from_json

YIELD_EVERY = 50  # messages sent between pauses, so a burst never holds the server's loop for long


class QueueRefresher:
    """Remembers what each worker was last told and which projects changed since; sends the differences."""

    def __init__(
        self, db: Database, notifier: Notifier, clock: Callable[[], datetime], pause: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.pause = pause  # lets other work run during a long burst (socketio.sleep(0) when serving)
        self._touched: set[int] = set()
        self._told: dict[int, dict[str, Place]] = {}
        self._guard = threading.Lock()
        self._running = threading.Lock()  # one refresh at a time, so messages never overtake each other
        # Called with (key, payload) for each `queue` message sent, e.g. to keep the heartbeat's cache fresh.
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.status_listeners: list[Callable[[int, str], None]] = []  # (project, status) at each refresh

    def touch(self, project_id: int) -> None:
        """A project's queues changed: its workers and admins hear at the next `run()`."""
        with self._guard:
            self._touched.add(project_id)

    def run(self) -> int:
        """Refresh every touched project; returns how many `queue` messages were sent."""
        with self._running:
            with self._guard:
                touched, self._touched = sorted(self._touched), set()
            return sum(self._refresh(project_id) for project_id in touched)

    def _refresh(self, project_id: int) -> int:
        with self.db.session_scope() as session:
            project = session.get(Project, project_id)
            if project is None:
                return 0
            now = self.clock()
            for hear_status in self.status_listeners:
                hear_status(project_id, project.status)
            current = places(state_from_json(project.state))
            with self._guard:
                told = self._told.setdefault(project_id, {})
            due = {key: place for key, place in current.items() if told.get(key) != place}
            messages = self._messages(session, project, due, now) if due else {}
            snap = snapshots.snapshot(session, project)
        for count, (key, payload) in enumerate(messages.items(), start=1):
            self.notifier.to_worker(key, "queue", payload)
            for listener in self.listeners:
                listener(key, payload)
            if count % YIELD_EVERY == 0:
                self.pause()
        with self._guard:
            for key in [k for k in told if k not in current]:
                del told[key]  # departed: nothing more is sent to them
            told.update({key: due[key] for key in messages})
        self.notifier.to_admins(project_id, "snapshot", snap)
        return len(messages)

    def _messages(
        self, session: Any, project: Project, due: dict[str, Place], now: datetime
    ) -> dict[str, dict[str, Any]]:
        """The `queue` message of each due worker, with pay earned by the server clock."""
        rows = session.execute(
            select(Assignment.key, Assignment.joined_at, Assignment.promoted_at).where(
                Assignment.project_id == project.id, Assignment.left_at.is_(None), Assignment.key.in_(list(due))
            )
        ).all()
        return {
            key: queue_payload(due[key], earned_so_far(project.pay, joined_at, promoted_at, None, now))
            for key, joined_at, promoted_at in rows
        }
