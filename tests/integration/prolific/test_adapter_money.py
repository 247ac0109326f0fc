"""Paying through the adapter: reward by approval, bonuses at most once across retries, lost answers and crashes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime import migrate
from pavilion.runtime.db import make_engine
from pavilion.runtime.platforms.base import PaymentOrder, PlatformError
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform

from .adapter_fixtures import Project, assignment, make_adapter, make_project

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The runtime's database, migrated as `pavilion serve` leaves it (the journal table comes with the schema)."""
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def adapter(running: RunningEmulator, clock: ManualClock, db_url: str) -> ProlificPlatform:
    return make_adapter(running, clock, db_url)


@pytest.fixture
def project(adapter: ProlificPlatform) -> Project:
    proj = make_project()
    proj.apply(adapter.hire(proj.view, 2, "launch"))
    return proj


@pytest.fixture
def started(project: Project, driver: EmulatorDriver) -> dict:  # type: ignore[type-arg]
    return driver.start(driver.reserve(project.view.state["study_id"], "p1")["id"])


def order(sub: dict, kind: str = "waiting", amount: str = "0.42", key: str = "pay-a1-waiting") -> PaymentOrder:  # type: ignore[type-arg]
    return PaymentOrder(key=key, kind=kind, amount=Decimal(amount), assignment=assignment(sub), reason="test")  # type: ignore[arg-type]


def paid(driver: EmulatorDriver) -> int:
    return int(driver.payments()["by_participant"].get("p1", 0))


def test_the_reward_is_paid_by_completing_and_approving(
    running: RunningEmulator,
    adapter: ProlificPlatform,
    project: Project,
    started: dict,
    driver: EmulatorDriver,  # type: ignore[type-arg]
) -> None:
    ref = adapter.pay(project.view, order(started, kind="reward", amount="1.50", key="pay-a1-reward"))
    sub = running.emulator.state.submissions[started["id"]]
    assert (sub.status, sub.entered_code, ref) == ("APPROVED", "PAVILION-DONE", f"approved:{started['id']}")
    assert adapter.pay(project.view, order(started, kind="reward", amount="1.50", key="pay-a1-reward")) == ref


def test_a_bonus_is_set_up_then_paid_once_even_when_retried(
    adapter: ProlificPlatform,
    project: Project,
    started: dict,
    driver: EmulatorDriver,  # type: ignore[type-arg]
) -> None:
    first = adapter.pay(project.view, order(started))
    assert first.startswith("bonus:") and adapter.pay(project.view, order(started)) == first
    assert paid(driver) == 42
    other = adapter.pay(project.view, order(started, kind="active", amount="1.10", key="pay-a1-active"))
    assert other != first and paid(driver) == 152


def test_a_lost_pay_answer_is_confirmed_never_resent(
    running: RunningEmulator,
    adapter: ProlificPlatform,
    project: Project,
    started: dict,
    driver: EmulatorDriver,  # type: ignore[type-arg]
) -> None:
    driver.settings(bonus_lag_s=60)
    driver.fault("POST", "/api/v1/bulk-bonus-payments/", 502, after=True)  # paid, but the answer is lost
    with pytest.raises(PlatformError) as exc:
        adapter.pay(project.view, order(started))
    assert exc.value.transient
    with pytest.raises(PlatformError, match="not yet credited"):
        adapter.pay(project.view, order(started))  # Prolific's bonus_payments lag: still unconfirmed
    driver.advance(60)
    assert adapter.pay(project.view, order(started)).startswith("bonus:")
    assert paid(driver) == 42
    assert sum(driver.payments()["pay_calls"].values()) == 1


def test_a_refused_pay_call_is_retried_and_pays_once(
    adapter: ProlificPlatform,
    project: Project,
    started: dict,
    driver: EmulatorDriver,  # type: ignore[type-arg]
) -> None:
    driver.fault("POST", "/api/v1/bulk-bonus-payments/", 429)  # wallet contention: refused, nothing paid
    with pytest.raises(PlatformError) as exc:
        adapter.pay(project.view, order(started))
    assert exc.value.transient and paid(driver) == 0
    adapter.pay(project.view, order(started))
    assert paid(driver) == 42


def test_a_restarted_server_does_not_pay_again(
    running: RunningEmulator,
    clock: ManualClock,
    db_url: str,
    project: Project,
    started: dict,
    driver: EmulatorDriver,  # type: ignore[type-arg]
) -> None:
    make_adapter(running, clock, db_url).pay(project.view, order(started))
    # A fresh adapter (new process) sees the same database; the outbox retries the row it never marked done.
    assert make_adapter(running, clock, db_url).pay(project.view, order(started)).startswith("bonus:")
    assert paid(driver) == 42


def test_fees_are_an_estimate_from_the_settings(running: RunningEmulator, clock: ManualClock, db_url: str) -> None:
    assert make_adapter(running, clock, db_url).fee(Decimal("3.00")) == Decimal("1.00")
    assert make_adapter(running, clock, db_url, fee_rate="0.25").fee(Decimal("1.00")) == Decimal("0.25")
