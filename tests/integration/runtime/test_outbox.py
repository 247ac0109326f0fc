"""Outside calls are recorded before they run and retried from the record: never lost, never repeated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pavilion.runtime.models import Outbox, Payment
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Departure, Identity, PlatformError
from pavilion.runtime.service import PolicyService

from .fakes import RecordingPlatform
from .helpers import new_project


@pytest.fixture
def platform() -> RecordingPlatform:
    return RecordingPlatform()


def make(database, clock, platform: RecordingPlatform, inline: bool = True) -> PolicyService:
    spawn = (lambda fn, *a: fn(*a)) if inline else (lambda fn, *a: None)
    return PolicyService(database, MemoryNotifier(), clock, {}, spawn=spawn, platform_factory=platform.factory)


def rows(service: PolicyService) -> list[tuple[str, str, int]]:
    with service.db.session_scope() as s:
        return [(r.kind, r.status, r.attempts) for r in s.scalars(select(Outbox).order_by(Outbox.id))]


def test_a_transient_failure_is_retried_later(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    platform.failures.append(PlatformError("503 from the platform"))
    pid = new_project(service)
    service.launch(pid)  # the hire failed; the policy state is committed regardless
    assert rows(service) == [("hire", "pending", 1)] and platform.calls == []
    assert service.outbox.run() == 1
    assert rows(service) == [("hire", "done", 2)] and [m for m, _ in platform.calls] == ["hire"]
    assert service.platform_view(pid)[1].state["hired"] == 6


def test_a_permanent_failure_is_recorded_not_retried(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    platform.failures.append(PlatformError("insufficient funds", transient=False))
    service.launch(new_project(service))
    assert rows(service) == [("hire", "failed", 1)]
    assert service.outbox.run() == 0 and platform.calls == []


def test_a_failed_payment_can_be_requeued(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    pid = new_project(service)
    service.launch(pid)
    key = service.join(pid, Identity("W1", "A1")).assignment_key
    platform.failures += [None, PlatformError("insufficient funds", transient=False)]  # the re-hire passes
    service.depart(pid, key, "submitted", "socket")
    with service.db.session_scope() as s:
        failed = s.scalars(select(Outbox).where(Outbox.status == "failed")).one()
        assert failed.kind == "pay"
        assert s.get_one(Payment, failed.payload["payment_id"]).status == "failed"
    assert service.outbox.requeue(failed.id) is True
    assert service.outbox.requeue(failed.id) is False  # only a failed row
    assert service.outbox.run() == 1
    with service.db.session_scope() as s:
        assert {p.status for p in s.scalars(select(Payment))} == {"paid"}


def test_attempts_are_bounded(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    service.outbox.max_attempts = 3
    platform.failures.extend(RuntimeError("connection reset") for _ in range(5))
    service.launch(new_project(service))
    service.outbox.run()
    service.outbox.run()
    assert rows(service) == [("hire", "failed", 3)]


def _submitted(service: PolicyService, clock) -> tuple[int, str]:
    pid = new_project(service)
    service.launch(pid)
    key = service.join(pid, Identity("W1", "A1")).assignment_key
    clock.advance(3600)
    service.depart(pid, key, "submitted", "socket")
    return pid, key


def test_a_crash_after_the_call_neither_loses_nor_repeats_a_payment(
    database, clock, platform: RecordingPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make(database, clock, platform, inline=False)
    _submitted(service, clock)
    runner = service.outbox
    real_done = runner._done

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("process killed after the platform call")

    monkeypatch.setattr(runner, "_done", crash)
    with service.db.session_scope() as s:
        pay_ids = [r.id for r in s.scalars(select(Outbox).where(Outbox.kind == "pay"))]
    with pytest.raises(KeyboardInterrupt):
        runner.run_one(pay_ids[0])
    monkeypatch.setattr(runner, "_done", real_done)
    assert runner.run() == 3  # two hires and the other payment; the claimed one is within its lease: untouched
    assert ("pay", "running", 1) in rows(service)
    assert runner.recover() == 1  # a restart retries the claimed payment, with the same key
    with service.db.session_scope() as s:
        ledger = {p.kind: (p.amount_cents, p.status, p.fee_cents) for p in s.scalars(select(Payment))}
    assert ledger == {"reward": (10, "paid", 2), "waiting": (725, "paid", 145)}
    pay_calls = [key for method, key in platform.calls if method == "pay"]
    assert len(pay_calls) == 3 and len(set(pay_calls)) == 2  # the repeat carried the same key
    assert platform.paid == {k: v for k, v in platform.paid.items() if k in pay_calls} and len(platform.paid) == 2


def test_a_stale_claim_is_retried_after_its_lease(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform, inline=False)
    service.launch(new_project(service))
    with service.db.session_scope() as s:
        row = s.scalars(select(Outbox)).one()
        row.status, row.claimed_at = "running", clock()
    assert service.outbox.run() == 0
    clock.advance(service.outbox.lease.total_seconds() + 1)
    assert service.outbox.run() == 1 and rows(service) == [("hire", "done", 1)]


def test_reconciliation_feeds_departures_once(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    pid = new_project(service)
    service.launch(pid)
    keys = [service.join(pid, Identity(f"W{i}", f"A{i}")).assignment_key for i in range(3)]
    platform.departures = [Departure("W2", "A2", "abandoned", key="poll:A2"), Departure("X", "Z", "returned", "poll:Z")]
    assert service.reconcile_all() == 1
    assert service.reconcile(pid) == 0
    snap = service.snapshot(pid)
    assert keys[2] not in snap["active"] + snap["waiting"] and snap["counts"]["abandoned"] == 1


def test_outbox_keys_are_stable_per_action(database, clock, platform: RecordingPlatform) -> None:
    service = make(database, clock, platform)
    pid, key = _submitted(service, clock)
    with service.db.session_scope() as s:
        keys = [r.key for r in s.scalars(select(Outbox).order_by(Outbox.id))]
    assert keys == [f"p{pid}-v1-0-hire", f"p{pid}-v3-0-hire", f"pay-{key}-reward", f"pay-{key}-waiting"]
