"""The platform contract: what the policy service relies on from every CrowdPlatform adapter.

To run it against an adapter, add `tests/integration/platforms/test_contract_<name>.py` that defines a `harness`
fixture returning a `Harness` (the adapter, usually talking to its emulator, plus a `Driver` that acts as workers
on the platform side) and a class `TestContract<Name>(PlatformContract)`. Every test here then runs against it
through a real PolicyService on SQLite, exactly as the server would call the adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

import pytest
from sqlalchemy import select

from pavilion.runtime import migrate
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.errors import ServiceError
from pavilion.runtime.models import Assignment, Outbox, Payment
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import (
    CrowdPlatform,
    Identity,
    IdentityError,
    PlatformAssignment,
    PlatformProject,
    Preview,
    SubmitForm,
)
from pavilion.runtime.projects import parse_project
from pavilion.runtime.service import PolicyService
from pavilion.runtime.snapshots import platform_assignment

How = Literal["submitted", "returned", "abandoned"]


class Driver(Protocol):
    """Plays the workers on the platform's side (the emulator's worker API, or the lab link)."""

    def arrive(self, project: PlatformProject, worker: str) -> Mapping[str, str] | None:
        """Take an open slot as `worker`; the query parameters the task page gets, or None when none is open."""
        ...

    def preview(self, project: PlatformProject) -> Mapping[str, str] | None:
        """The query parameters of a preview visit, or None when the platform has no previews."""
        ...

    def leave(self, project: PlatformProject, args: Mapping[str, str], how: How, form: SubmitForm | None) -> None:
        """End the stint on the platform side: submit (posting `form` if any), return, or abandon (time out)."""
        ...

    def open_slots(self, project: PlatformProject) -> int:
        """Slots a new worker could take right now."""
        ...

    def payments(self, project: PlatformProject) -> list[Decimal] | None:
        """Every amount the platform paid out to workers (rewards and bonuses), or None if it keeps no record."""
        ...


class ManualClock:
    """The server clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Harness:
    """One adapter under test and how to drive it."""

    name: str  # its name in pavilion.runtime.platforms.PLATFORMS
    platform: CrowdPlatform
    driver: Driver
    settings: dict[str, Any] = field(default_factory=dict)  # the project's platform settings
    config: dict[str, Any] = field(default_factory=dict)  # app config: credentials, PUBLIC_URL
    forged: list[dict[str, str]] = field(default_factory=list)  # arrival parameters identify must refuse
    reports_departures: bool = True  # False: departures come only from the worker protocol (local)
    # Delivers whatever the platform pushes or is polled for; default: the service's reconciliation.
    sync: Callable[[PolicyService, int], Any] | None = None
    # Moves the platform's own clock with the server's (emulators with a manual clock).
    advance: Callable[[float], None] | None = None
    # Arrival parameters that copy a real slot's public ids (MTurk's HIT id, Prolific's study id) and make up the
    # private ones: identify or join must refuse each. None: the platform has nothing private (an open lab link).
    made_up: Callable[[PlatformProject], list[dict[str, str]]] | None = None
    # A present worker's parameters with another assignment id (None: the link carries no assignment id).
    reassign: Callable[[Mapping[str, str]], dict[str, str]] | None = None
    # Malformed ids (path traversal, control characters, wrong lengths): a 400, before any platform call.
    malformed: list[dict[str, str]] = field(default_factory=list)


QUEUES = {"name": "pavilion", "min_active": 1, "max_active": 2, "min_waiting": 1, "max_waiting": 1}
PAY = {"reward": "0.50", "waiting_wage_per_hour": "6.00", "active_wage_per_hour": "12.00"}


class PlatformContract:
    """The shared tests; subclass it next to a `harness` fixture."""

    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock()

    @pytest.fixture
    def service(self, harness: Harness, tmp_path: Path, clock: ManualClock) -> Iterator[PolicyService]:
        db = Database(make_engine(f"sqlite:///{tmp_path / 'contract.sqlite'}"))
        migrate.upgrade(db.engine)
        yield PolicyService(db, MemoryNotifier(), clock, harness.config, platform_factory=lambda *_: harness.platform)
        db.dispose()

    # ---- helpers -------------------------------------------------------------------------------------------
    @staticmethod
    def launch(harness: Harness, service: PolicyService) -> int:
        data = {"name": "contract", "policy": QUEUES, "platform": {"name": harness.name, **harness.settings}}
        data.update(pay=PAY, task={"title": "Contract test", "description": "A test task", "url": "/demo"})
        pid = service.create_project(parse_project(data))
        service.launch(pid)
        return pid

    @staticmethod
    def view(service: PolicyService, pid: int) -> PlatformProject:
        return service.platform_view(pid)[1]

    def arrive(self, harness: Harness, service: PolicyService, pid: int, worker: str) -> tuple[Mapping[str, str], str]:
        """A worker takes a slot, reaches the task page and joins; returns their args and assignment key."""
        args = harness.driver.arrive(self.view(service, pid), worker)
        assert args is not None, "an open slot was expected"
        identity = harness.platform.identify(self.view(service, pid), args)
        assert isinstance(identity, Identity) and identity.worker_id and identity.assignment_id
        return args, service.join(pid, identity).assignment_key

    @staticmethod
    def sync(harness: Harness, service: PolicyService, pid: int) -> None:
        (harness.sync or (lambda s, p: s.reconcile(p)))(service, pid)

    @staticmethod
    def assignment(service: PolicyService, key: str) -> Assignment:
        with service.db.session_scope() as s:
            return s.scalars(select(Assignment).where(Assignment.key == key)).one()

    @staticmethod
    def platform_assignment(service: PolicyService, key: str) -> PlatformAssignment:
        with service.db.session_scope() as s:
            return platform_assignment(s.scalars(select(Assignment).where(Assignment.key == key)).one())

    def tick(self, harness: Harness, clock: ManualClock, seconds: float) -> None:
        clock.advance(seconds)
        if harness.advance is not None:
            harness.advance(seconds)

    # ---- the contract --------------------------------------------------------------------------------------
    def test_launch_opens_what_the_policy_hires(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        assert harness.driver.open_slots(self.view(service, pid)) == QUEUES["max_active"] + QUEUES["max_waiting"]

    def test_a_repeated_hire_opens_nothing_more(
        self, harness: Harness, service: PolicyService, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        service.spawn = lambda fn, *args: None  # run the outbox by hand
        pid = self.launch(harness, service)
        runner = service.outbox
        real_done = runner._done

        def crash(*args: Any, **kwargs: Any) -> None:
            raise KeyboardInterrupt("killed between the platform call and its record")

        monkeypatch.setattr(runner, "_done", crash)
        with service.db.session_scope() as s:
            (row_id,) = s.scalars(select(Outbox.id).where(Outbox.kind == "hire"))
        with pytest.raises(KeyboardInterrupt):
            runner.run_one(row_id)
        monkeypatch.setattr(runner, "_done", real_done)
        assert runner.recover() == 1  # the same key again
        assert harness.driver.open_slots(self.view(service, pid)) == QUEUES["max_active"] + QUEUES["max_waiting"]

    def test_arrivals_join_and_a_reload_keeps_the_place(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        args, key = self.arrive(harness, service, pid, "worker1")
        again = harness.platform.identify(self.view(service, pid), args)
        assert isinstance(again, Identity)
        rejoined = service.join(pid, again)
        assert rejoined.assignment_key == key and not rejoined.created

    def test_a_preview_never_joins(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        args = harness.driver.preview(self.view(service, pid))
        if args is None:
            pytest.skip(f"{harness.name} has no preview")
        assert isinstance(harness.platform.identify(self.view(service, pid), args), Preview)

    def test_forged_arrivals_are_refused(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        assert harness.forged, "list some forged arrival parameters in the harness"
        for args in harness.forged:
            with pytest.raises(IdentityError) as caught:
                harness.platform.identify(self.view(service, pid), args)
            assert str(caught.value)  # a message for the worker

    def _refused(self, harness: Harness, service: PolicyService, pid: int, args: Mapping[str, str]) -> None:
        with pytest.raises((IdentityError, ServiceError)):
            identity = harness.platform.identify(self.view(service, pid), args)
            assert isinstance(identity, Identity)
            service.join(pid, identity)

    def test_made_up_private_ids_on_a_real_slot_take_no_place(self, harness: Harness, service: PolicyService) -> None:
        if harness.made_up is None:
            pytest.skip(f"{harness.name} links carry nothing private")
        pid = self.launch(harness, service)
        _args, key = self.arrive(harness, service, pid, "worker1")
        for args in harness.made_up(self.view(service, pid)):
            self._refused(harness, service, pid, args)
        assert service.present(pid) == [key]

    def test_a_present_worker_with_another_assignment_is_refused(
        self, harness: Harness, service: PolicyService
    ) -> None:
        if harness.reassign is None:
            pytest.skip(f"{harness.name} links carry no assignment id")
        pid = self.launch(harness, service)
        args, key = self.arrive(harness, service, pid, "worker1")
        self._refused(harness, service, pid, harness.reassign(args))
        assert service.present(pid) == [key]  # untouched, nothing merged
        assert self.assignment(service, key).left_at is None

    def test_malformed_ids_are_refused_as_bad_input(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        assert harness.malformed, "list some malformed arrival parameters in the harness"
        for args in harness.malformed:
            with pytest.raises(IdentityError) as caught:
                harness.platform.identify(self.view(service, pid), args)
            assert caught.value.status == 400, args

    @pytest.mark.parametrize("how", ["returned", "abandoned", "submitted"])
    def test_departures_reach_the_policy_once(
        self, harness: Harness, service: PolicyService, clock: ManualClock, how: How
    ) -> None:
        pid = self.launch(harness, service)
        args, key = self.arrive(harness, service, pid, "worker1")
        self.tick(harness, clock, 60)
        form = harness.platform.submit_target(self.view(service, pid), self.platform_assignment(service, key))
        harness.driver.leave(self.view(service, pid), args, how, form)
        if harness.reports_departures:
            self.sync(harness, service, pid)
            self.sync(harness, service, pid)
        else:  # only the worker protocol reports it
            assert service.depart(pid, key, how, "socket") is True
        assert service.depart(pid, key, how, "socket") is False  # whoever comes second changes nothing
        row = self.assignment(service, key)
        assert row.how_left == how and row.left_at is not None
        assert service.snapshot(pid)["counts"][how] == 1

    def test_a_submitted_stint_is_paid_once(self, harness: Harness, service: PolicyService, clock: ManualClock) -> None:
        pid = self.launch(harness, service)
        args, key = self.arrive(harness, service, pid, "worker1")
        self.tick(harness, clock, 1800)  # 30 min waiting at 6/h = 3.00
        form = harness.platform.submit_target(self.view(service, pid), self.platform_assignment(service, key))
        harness.driver.leave(self.view(service, pid), args, "submitted", form)
        service.depart(pid, key, "submitted", "socket")  # the page says so first; the platform may echo it
        if harness.reports_departures:
            self.sync(harness, service, pid)
        service.outbox.recover()  # a restart retries nothing that is already paid
        with service.db.session_scope() as s:
            ledger = {p.kind: (p.amount_cents, p.status) for p in s.scalars(select(Payment))}
        assert ledger == {"reward": (50, "paid"), "waiting": (300, "paid")}
        paid = harness.driver.payments(self.view(service, pid))
        if paid is not None:
            assert sorted(paid) == [Decimal("0.50"), Decimal("3.00")]

    def test_expire_closes_recruitment(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        service.expire(pid)
        assert harness.driver.open_slots(self.view(service, pid)) == 0
        self._no_new_arrival(harness, service, pid)

    def test_stop_closes_recruitment(self, harness: Harness, service: PolicyService) -> None:
        pid = self.launch(harness, service)
        self.arrive(harness, service, pid, "worker1")
        service.stop(pid)
        assert harness.driver.open_slots(self.view(service, pid)) == 0
        with service.db.session_scope() as s:
            assert {r.status for r in s.scalars(select(Outbox))} == {"done"}

    def _no_new_arrival(self, harness: Harness, service: PolicyService, pid: int) -> None:
        args = harness.driver.arrive(self.view(service, pid), "late")
        if args is None:
            return
        with pytest.raises(IdentityError):
            identity = harness.platform.identify(self.view(service, pid), args)
            assert isinstance(identity, Identity)
            service.join(pid, identity)

    def test_fees_are_cents(self, harness: Harness) -> None:
        for amount in (Decimal("0.00"), Decimal("0.01"), Decimal("1.00"), Decimal("12.34")):
            fee = harness.platform.fee(amount)
            assert isinstance(fee, Decimal) and fee >= 0 and fee == fee.quantize(Decimal("0.01"))
