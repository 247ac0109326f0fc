"""Webhooks into the adapter: real signed deliveries from the emulator, verified, de-duplicated, stale ones dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform
from pavilion.runtime.platforms.prolific.webhooks import WebhookRejected

from .adapter_fixtures import Project, make_adapter, make_project
from .conftest import Receiver

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def adapter(running: RunningEmulator, clock: ManualClock, tmp_path: Path) -> ProlificPlatform:
    return make_adapter(running, clock, f"sqlite:///{tmp_path / 'j.sqlite'}", webhooks=True)


@pytest.fixture
def project(adapter: ProlificPlatform, receiver: Receiver) -> Project:
    proj = make_project()
    base = receiver.url.rsplit("/hooks", 1)[0]
    proj.view = proj.view.__class__(**{**proj.view.__dict__, "public_url": base})
    proj.apply(adapter.hire(proj.view, 3, "launch"))
    return proj


def deliveries(receiver: Receiver) -> list[tuple[dict[str, str], bytes]]:
    return [(r["headers"], r["body"]) for r in receiver.received]


def test_launch_subscribes_and_confirms(running: RunningEmulator, project: Project, receiver: Receiver) -> None:
    subs = running.emulator.state.subscriptions.values()
    assert {(s.event_type, s.confirmed) for s in subs} == {
        ("submission.status.change", True),
        ("study.status.change", True),
    }
    assert all(s.target_url.endswith("/prolific/webhook/1") for s in subs)


def test_verified_deliveries_become_departures_keyed_by_event_id(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver, receiver: Receiver
) -> None:
    sub = driver.start(driver.reserve(project.view.state["study_id"], "p1")["id"])
    driver.return_submission(sub["id"])
    driver.flush()
    gone = [adapter.webhook(project.view, h, b) for h, b in deliveries(receiver) if b"submission" in b]
    departures = [d for d in gone if d is not None]
    assert len(departures) == 1
    (departure,) = departures
    assert (departure.worker_id, departure.assignment_id, departure.how) == ("p1", sub["id"], "returned")
    assert departure.key.startswith("prolific-event:")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"RETURNED", b"APPROVED")),
        lambda h, b: ({**h, "X-Prolific-Request-Signature": "AAAA"}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "X-Prolific-Request-Signature"}, b),
    ],
)
def test_forged_deliveries_are_refused(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver, receiver: Receiver, tamper: Any
) -> None:
    driver.return_submission(driver.reserve(project.view.state["study_id"])["id"])
    driver.flush()
    headers, body = deliveries(receiver)[-1]
    with pytest.raises(WebhookRejected):
        adapter.webhook(project.view, *tamper(headers, body))


def test_replayed_old_deliveries_are_refused(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver, receiver: Receiver
) -> None:
    driver.return_submission(driver.reserve(project.view.state["study_id"])["id"])
    driver.flush()
    driver.advance(3600)
    with pytest.raises(WebhookRejected, match="stale"):
        adapter.webhook(project.view, *deliveries(receiver)[-1])


def test_out_of_order_events_act_on_the_current_status(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver, receiver: Receiver
) -> None:
    driver.switches(reorder=True)
    sub = driver.time_out(driver.start(driver.reserve(project.view.state["study_id"], "p1")["id"])["id"])
    driver.advance(1)
    driver.complete(sub["id"], "PAVILION-FINISHED")  # a timed-out participant may still finish
    driver.flush()
    gone = [adapter.webhook(project.view, h, b) for h, b in deliveries(receiver) if b"submission" in b]
    assert [d.how for d in gone if d is not None] == ["submitted"]  # the newest event; older ones are stale


def test_a_study_paused_by_prolific_is_restarted_from_its_webhook(
    running: RunningEmulator, adapter: ProlificPlatform, project: Project, driver: EmulatorDriver, receiver: Receiver
) -> None:
    subs = [driver.reserve(project.view.state["study_id"]) for _ in range(3)]
    driver.return_submission(subs[0]["id"])
    driver.flush()
    for headers, body in deliveries(receiver):
        adapter.webhook(project.view, headers, body)
    assert running.emulator.state.studies[project.view.state["study_id"]].status == "ACTIVE"


def test_the_secret_is_fetched_not_stored(adapter: ProlificPlatform, project: Project) -> None:
    assert adapter.hooks.secret()
    assert "secret" not in str(project.view.state).lower()
    assert httpx  # the adapter talks httpx; nothing secret reaches the project state
