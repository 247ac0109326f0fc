"""Two departures at once, from two threads and two service instances (as two processes would), never promote the
same worker twice: the database lock (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) serialises them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from pavilion.runtime.db import Database
from pavilion.runtime.models import EventLog
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.service import PolicyService

from .helpers import new_project

ROUNDS = 8


def race(pid: int, leavers: list[tuple[PolicyService, str]]) -> list[BaseException]:
    """Start every departure at the same instant, each in its own thread; return what they raised."""
    barrier = threading.Barrier(len(leavers))
    errors: list[BaseException] = []

    def leave(service: PolicyService, key: str) -> None:
        try:
            barrier.wait(timeout=10)
            service.depart(pid, key, "returned", "socket")
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=leave, args=pair) for pair in leavers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.timeout(120)
def test_simultaneous_departures_promote_distinct_workers(database: Database, clock) -> None:
    notifier = MemoryNotifier()
    # Two services with their own in-process locks share only the database, like two server processes.
    first = PolicyService(database, notifier, clock, {})
    second = PolicyService(Database(database.engine), notifier, clock, {})
    for _ in range(ROUNDS):
        pid = new_project(first, min_active=1, max_active=3, min_waiting=0, max_waiting=2)
        first.launch(pid)
        a, b, c, d, e = (first.join(pid, Identity(f"W{pid}-{i}", f"A{pid}-{i}")).assignment_key for i in range(5))
        assert first.snapshot(pid)["active"] == [a, b, c] and first.snapshot(pid)["waiting"] == [d, e]
        assert race(pid, [(first, a), (second, b)]) == []
        snap = first.snapshot(pid)
        assert sorted(snap["active"]) == sorted([c, d, e]) and snap["waiting"] == []
        with database.session_scope() as s:
            query = select(EventLog.worker).where(EventLog.project_id == pid, EventLog.event == "promoted")
            promoted = list(s.scalars(query))
        assert sorted(promoted) == sorted([a, b, c, d, e])  # each worker promoted exactly once
        for key in (d, e):
            assert len(notifier.for_worker(key, "promoted")) == 1
