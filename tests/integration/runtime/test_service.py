"""The policy service on a real database: every event is one locked step, its messages and its outbox."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from sqlalchemy import select

from pavilion.runtime.errors import BadInput, Conflict, NotFound
from pavilion.runtime.models import Assignment, Outbox, Payment
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Departure, Identity, IdentityError
from pavilion.runtime.projects import parse_project
from pavilion.runtime.service import PolicyService

from .fakes import RecordingPlatform
from .helpers import new_project, project_json, table_counts

_arrivals = itertools.count()


def join(service: PolicyService, project_id: int, n: int, clock=None, gap_s: float = 10.0) -> list[str]:
    """n new workers join; platform ids are W<i>/A<i> with i counting every arrival of the test session."""
    keys = []
    for _ in range(n):
        if clock is not None:
            clock.advance(gap_s)
        i = next(_arrivals)
        keys.append(service.join(project_id, Identity(f"W{i}", f"A{i}")).assignment_key)
    return keys


def platform_ids(service: PolicyService, key: str) -> tuple[str, str]:
    with service.db.session_scope() as s:
        row = s.scalars(select(Assignment).where(Assignment.key == key)).one()
        return row.worker.platform_worker_id, row.platform_assignment_id


def test_launch_hires_and_records_the_outbox(service: PolicyService) -> None:
    pid = new_project(service)
    snap = service.launch(pid)
    assert snap["status"] == "live" and snap["counts"]["hired"] == 6
    with service.db.session_scope() as s:
        rows = s.scalars(select(Outbox)).all()
        assert [(r.kind, r.payload, r.status) for r in rows] == [("hire", {"count": 6}, "done")]
        _, view = service.platform_view(pid)
        assert view.state["hired"] == 6


def test_promotions_reach_only_the_promoted_worker(service: PolicyService, notifier: MemoryNotifier, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock)
    assert service.snapshot(pid)["active"] == [a, b] and service.snapshot(pid)["waiting"] == [c]
    assert notifier.for_worker(a, "promoted") == [{"url": "https://task.test/live"}]
    assert notifier.for_worker(c, "promoted") == []
    assert {m.room for m in notifier.messages if m.event == "promoted"} == {f"worker:{a}", f"worker:{b}"}
    last = notifier.for_worker(c, "queue")[-1]
    assert last == {"queue": "waiting", "position": 1, "waiting": 1, "active": 2, "earned_usd": 0.0,
                    "start_at": 0, "needed": 0}


def test_reload_keeps_the_place(service: PolicyService) -> None:
    pid = new_project(service)
    service.launch(pid)
    first = service.join(pid, Identity("W1", "A1"))
    again = service.join(pid, Identity("W1", "A1"))
    assert again.assignment_key == first.assignment_key and not again.created
    assert service.snapshot(pid)["counts"]["joined"] == 1


def test_one_departure_is_one_event_whatever_the_source(service: PolicyService, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c, d = join(service, pid, 4, clock)
    clock.advance(30)
    assert service.depart(pid, a, "returned", "socket") is True
    assert service.depart(pid, a, "returned", "reconcile") is False
    assert service.platform_departure(pid, Departure(*platform_ids(service, a), "returned", key="n1")) is False
    snap = service.snapshot(pid)
    assert snap["active"] == [b, c] and snap["waiting"] == [d]  # min_waiting=1 keeps d waiting
    assert snap["counts"]["returned"] == 1 and snap["counts"]["hired"] == 6  # a return re-opens, hires nobody


def test_platform_notification_replay_is_ignored(service: PolicyService, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock)
    dep = Departure(*platform_ids(service, c), "abandoned", key="sqs-msg-1")
    assert service.platform_departure(pid, dep) is True
    assert service.platform_departure(pid, dep) is False
    with service.db.session_scope() as s:
        row = s.scalars(select(Assignment).where(Assignment.key == c)).one()
        assert (row.how_left, row.left_source) == ("abandoned", "notification")


def test_a_departure_learnt_from_the_platform_reaches_that_workers_page_once(
    service: PolicyService, notifier: MemoryNotifier, clock
) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock)
    dep = Departure(*platform_ids(service, c), "returned", key="sqs-msg-2")
    assert service.platform_departure(pid, dep, source="reconcile") is True
    assert service.platform_departure(pid, dep, source="reconcile") is False  # de-duplicated: told once
    assert notifier.for_worker(c, "left") == [{"how": "returned"}]
    assert notifier.for_worker(a, "left") == notifier.for_worker(b, "left") == []  # that worker's room only
    assert service.depart(pid, a, "returned", "socket") is True
    assert notifier.for_worker(a, "left") == []  # the page itself said so: nothing to tell it


def test_submit_pays_reward_and_wages_from_server_times(service: PolicyService, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock, gap_s=0)
    clock.advance(600)  # c waits 600 s at 7.25/h = 1.2083 -> 1.21
    service.depart(pid, c, "submitted", "socket")
    clock.advance(1800)  # a: active 2400 s at 12/h = 8.00
    service.depart(pid, a, "submitted", "socket")
    with service.db.session_scope() as s:
        paid = {(p.assignment.key, p.kind): (p.amount_cents, p.status) for p in s.scalars(select(Payment))}
    assert paid == {
        (c, "reward"): (10, "paid"),
        (c, "waiting"): (121, "paid"),
        (a, "reward"): (10, "paid"),
        (a, "active"): (800, "paid"),
    }
    assert service.snapshot(pid)["counts"]["hired"] == 8  # two consumed slots re-hired
    assert service.snapshot(pid)["counts"]["paid"] == 2  # stints with a paid ledger line


def test_full_job_rejects_and_the_worker_is_told(database, notifier: MemoryNotifier, clock) -> None:
    # A platform with more open slots than queue places (as when returned slots re-open) meets the policy's limit.
    service = PolicyService(database, notifier, clock, {}, platform_factory=RecordingPlatform().factory)
    pid = new_project(service, max_waiting=1, min_waiting=0, min_active=1, max_active=1)
    service.launch(pid)
    join(service, pid, 2)
    result = service.join(pid, Identity("late", "A9"))
    assert result.rejected == "job_full" and result.queue == ""
    assert notifier.for_worker(result.assignment_key, "rejected") == [{"reason": "job_full"}]
    assert service.snapshot(pid)["counts"]["rejected"] == 1


def test_stop_reaches_everyone_and_refuses_later_events(service: PolicyService, notifier: MemoryNotifier) -> None:
    pid = new_project(service)
    service.launch(pid)
    keys = join(service, pid, 4)
    service.stop(pid)
    assert all(notifier.for_worker(k, "stop") == [{}] for k in keys)
    before = table_counts(service.db)
    for refused in (
        lambda: service.stop(pid),
        lambda: service.launch(pid),
        lambda: service.expire(pid),
        lambda: service.join(pid, Identity("new", "A8")),
        lambda: service.migrate(pid, keys[-1]),
    ):
        with pytest.raises(Conflict):
            refused()
    assert table_counts(service.db) == before
    assert service.depart(pid, keys[0], "submitted", "socket") is True  # workers still submit after a stop


def test_expire_closes_recruitment_but_keeps_workers(service: PolicyService) -> None:
    pid = new_project(service)
    service.launch(pid)
    keys = join(service, pid, 3)
    snap = service.expire(pid)
    assert snap["status"] == "expired" and not snap["recruiting"] and snap["active"] == keys[:2]
    with pytest.raises(IdentityError):
        service.join(pid, Identity("new", "A7"))


def test_migrate_promotes_a_waiting_worker(service: PolicyService, notifier: MemoryNotifier) -> None:
    pid = new_project(service, min_active=1, max_active=1, min_waiting=0, max_waiting=3)
    service.launch(pid)
    a, b = join(service, pid, 2)
    before = table_counts(service.db)
    with pytest.raises(Conflict, match="force"):
        service.migrate(pid, b)
    with pytest.raises(Conflict, match="not in the waiting queue"):
        service.migrate(pid, a)
    assert table_counts(service.db) == before
    snap = service.migrate(pid, b, force=True)
    assert snap["active"] == [a, b]
    assert notifier.for_worker(b, "promoted") == [{"url": "https://task.test/live"}]


def test_on_demand_seats_a_joiner_directly(service: PolicyService, notifier: MemoryNotifier) -> None:
    pid = new_project(service, policy="on-demand", min_waiting=0, max_waiting=0)
    service.launch(pid)
    (a,) = join(service, pid, 1)
    assert service.snapshot(pid)["active"] == [a]
    assert notifier.for_worker(a, "promoted") == [{"url": "https://task.test/live"}]


def test_local_places_are_counted(service: PolicyService) -> None:
    pid = new_project(service, min_active=1, max_active=1, min_waiting=0, max_waiting=1)
    service.launch(pid)  # 2 places
    a, _ = join(service, pid, 2)
    with pytest.raises(IdentityError, match="no open place"):
        service.join(pid, Identity("third", "A3"))
    service.depart(pid, a, "returned", "socket")  # a returned place re-opens
    assert service.join(pid, Identity("third", "A3")).queue == "waiting"


def test_bad_requests_change_nothing(service: PolicyService) -> None:
    pid = new_project(service)
    service.launch(pid)
    (a,) = join(service, pid, 1)
    before = table_counts(service.db)
    with pytest.raises(NotFound):
        service.snapshot(pid + 100)
    with pytest.raises(NotFound):
        service.depart(pid, "no-such-key", "returned", "socket")
    with pytest.raises(BadInput):
        service.depart(pid, a, "vanished", "socket")
    with pytest.raises(BadInput):
        service.migrate(pid, 17)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="assignment key"):
        service.depart(pid, 12345, "returned", "socket")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="assignment key is longer"):
        service.depart(pid, "k" * 10_000, "returned", "socket")
    with pytest.raises(BadInput, match="platform worker id"):
        service.join(pid, Identity("", "A1"))
    with pytest.raises(BadInput, match="platform assignment id is longer"):
        service.join(pid, Identity("W1", "A" * 500))
    with pytest.raises(BadInput, match="how must be one of"):
        service.platform_departure(pid, Departure("W", "A", "vanished", key="k"))  # type: ignore[arg-type]
    for huge in (2**31, 10**30, 0, -1):
        with pytest.raises(NotFound):
            service.launch(huge)
    with pytest.raises(BadInput):
        service.snapshot("1")  # type: ignore[arg-type]
    assert table_counts(service.db) == before


def test_earned_so_far_uses_decimal_cents(service: PolicyService, notifier: MemoryNotifier, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    (a,) = join(service, pid, 1)
    clock.advance(3600)
    (b,) = join(service, pid, 1)
    assert Decimal(str(notifier.for_worker(a, "queue")[-1]["earned_usd"])) == Decimal("7.25")


def test_worker_status_for_a_page_load(service: PolicyService, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock)
    clock.advance(3600)
    status = service.worker_status(pid, c)
    assert status["queue"] == "waiting" and status["position"] == 1 and status["earned_usd"] == 7.25
    assert status["url"] == "" and not status["left"] and status["status"] == "live"
    assert service.worker_status(pid, a)["url"] == "https://task.test/live"
    service.depart(pid, c, "returned", "socket")
    assert service.worker_status(pid, c)["left"] and service.worker_status(pid, c)["how_left"] == "returned"
    assert service.present(pid) == sorted([a, b])
    with pytest.raises(NotFound):
        service.worker_status(pid, "forged")


def test_only_a_draft_can_be_edited(service: PolicyService) -> None:
    pid = new_project(service)
    service.update_draft(pid, parse_project(project_json(name="renamed", max_waiting=2)))
    snap = service.snapshot(pid)
    assert snap["name"] == "renamed" and snap["policy"]["max_waiting"] == 2
    assert service.launch(pid)["counts"]["hired"] == 5
    before = table_counts(service.db)
    with pytest.raises(Conflict, match="only a draft"):
        service.update_draft(pid, parse_project(project_json()))
    assert table_counts(service.db) == before and service.snapshot(pid)["name"] == "renamed"


def test_a_platform_time_out_is_logged_with_source_timeout(service: PolicyService, clock) -> None:
    pid = new_project(service)
    service.launch(pid)
    a, b, c = join(service, pid, 3, clock)
    dep = Departure(*platform_ids(service, c), "abandoned", key="deadline-1", timed_out=True)
    assert service.platform_departure(pid, dep) is True
    with service.db.session_scope() as s:
        row = s.scalars(select(Assignment).where(Assignment.key == c)).one()
        assert (row.how_left, row.left_source) == ("abandoned", "timeout")
