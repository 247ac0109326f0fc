"""Coalesced `queue` messages: who hears what after events, and a step's database work not growing with the crowd."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.service import PolicyService

from .helpers import new_project

_ids = itertools.count(1)


def arrive(service: PolicyService, project_id: int, n: int) -> list[str]:
    return [service.join(project_id, Identity(f"R{i}", f"RA{i}")).assignment_key for i in map(next, [_ids] * n)]


def queue_messages(notifier: MemoryNotifier) -> dict[str, list[dict[str, object]]]:
    """The `queue` payloads each worker room received, by assignment key."""
    out: dict[str, list[dict[str, object]]] = {}
    for m in notifier.messages:
        if m.event == "queue":
            out.setdefault(m.room.removeprefix("worker:"), []).append(m.payload)
    return out


def deferred(service: PolicyService) -> PolicyService:
    service.refresh_inline = False  # as when serving: the background task calls refresh()
    return service


def test_events_send_promotions_at_once_and_positions_at_the_refresh(
    service: PolicyService, notifier: MemoryNotifier
) -> None:
    pid = new_project(deferred(service), max_waiting=5)
    service.launch(pid)
    keys = arrive(service, pid, 5)
    snap = service.snapshot(pid)
    assert snap["active"] == keys[:3] and snap["waiting"] == keys[3:]
    assert all(notifier.for_worker(k, "promoted") for k in keys[:3])
    assert queue_messages(notifier) == {}
    assert service.refresh() == 5
    told = queue_messages(notifier)
    assert [told[k][-1]["position"] for k in keys] == [1, 2, 3, 1, 2]
    assert all(len(told[k]) == 1 for k in keys)
    assert [m.event for m in notifier.messages if m.room == f"project:{pid}"] == ["snapshot"]


def test_a_refresh_with_nothing_new_sends_nothing(service: PolicyService, notifier: MemoryNotifier) -> None:
    pid = new_project(deferred(service), max_waiting=5)
    service.launch(pid)
    arrive(service, pid, 4)
    service.refresh()
    notifier.clear()
    assert service.refresh() == 0
    assert notifier.messages == []


def test_several_events_between_refreshes_reach_each_worker_once(
    service: PolicyService, notifier: MemoryNotifier
) -> None:
    pid = new_project(deferred(service), max_waiting=5)
    service.launch(pid)
    a, b, c, d, e = arrive(service, pid, 5)  # a, b, c active; d, e wait
    service.refresh()
    notifier.clear()
    service.depart(pid, a, "submitted", "socket")  # d is promoted, e moves up
    service.depart(pid, b, "returned", "socket")  # e is promoted
    (f,) = arrive(service, pid, 1)
    assert service.snapshot(pid)["active"] == [c, d, e] and service.snapshot(pid)["waiting"] == [f]
    assert service.refresh() == 4
    told = queue_messages(notifier)
    assert set(told) == {c, d, e, f}  # the leavers hear nothing more
    assert all(len(payloads) == 1 for payloads in told.values())
    assert told[d] == [{"queue": "active", "position": 2, "waiting": 1, "active": 3, "earned_usd": 0.0,
                        "start_at": 0, "needed": 0}]
    assert told[e][0]["position"] == 3 and told[f][0]["queue"] == "waiting" and told[f][0]["position"] == 1


def test_only_workers_whose_place_changed_are_told(service: PolicyService, notifier: MemoryNotifier) -> None:
    pid = new_project(deferred(service), max_waiting=5)
    service.launch(pid)
    keys = arrive(service, pid, 6)  # three active, three waiting
    assert service.snapshot(pid)["waiting"] == keys[3:]
    service.refresh()
    notifier.clear()
    service.depart(pid, keys[-1], "returned", "socket")  # the last in line leaves: only the sizes change
    (late,) = arrive(service, pid, 1)  # and someone takes that place: sizes as before
    assert service.refresh() == 1
    assert set(queue_messages(notifier)) == {late}


def test_inline_refresh_keeps_every_message_in_step_with_the_events(
    service: PolicyService, notifier: MemoryNotifier
) -> None:
    pid = new_project(service, max_waiting=5)
    service.launch(pid)
    a, b, c, d, e = arrive(service, pid, 5)  # a, b, c active; d, e wait
    service.depart(pid, a, "submitted", "socket")
    events = [m.event for m in notifier.messages if m.room == f"worker:{d}"]
    assert events[-2:] == ["promoted", "queue"]  # promoted first, then the place it now has
    assert notifier.for_worker(d, "queue")[-1]["queue"] == "active"


@contextmanager
def statements(service: PolicyService) -> Iterator[list[str]]:
    """The SQL statements the service runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(service.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(service.db.engine, "before_cursor_execute", record)


def _departure_statements(service: PolicyService, crowd: int) -> list[str]:
    pid = new_project(service, max_waiting=crowd)
    service.launch(pid)
    first, *_ = arrive(service, pid, crowd)
    service.refresh()
    with statements(service) as seen, service.locks.hold(pid), service.db.session_scope(lock=True) as session:
        project = service._get(session, pid, lock=True)
        assignment = service._assignments(session, pid, {first})[first]
        service._leave(session, project, assignment, "submitted", "socket")
    return seen


def test_a_departure_runs_the_same_statements_with_5_or_60_workers_present(
    service: PolicyService,
) -> None:
    service.refresh_inline = False
    small, large = _departure_statements(service, 5), _departure_statements(service, 60)
    assert len(small) == len(large)
    assert small == large
