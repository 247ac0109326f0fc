"""Webhook delivery from the emulator: set-up, signatures, duplicates, reordering, drops and retries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.hooks import sign
from pavilion.emulators.prolific.server import RunningEmulator

from .conftest import Receiver, new_study

pytestmark = pytest.mark.timeout(30)


def subscribe(api: httpx.Client, running: RunningEmulator, target: str) -> str:
    """Secret, subscription, confirmation; returns the signing secret."""
    workspace = running.emulator.state.workspace_id
    secret = api.post("hooks/secrets/", json={"workspace_id": workspace}).json()["value"]
    created = api.post(
        "hooks/subscriptions/",
        json={"workspace_id": workspace, "event_type": "submission.status.change", "target_url": target},
    )
    assert created.status_code == 201
    sub_id = created.json()["id"]
    assert not created.json()["is_enabled"]  # nothing is delivered before the confirmation
    assert api.post(f"hooks/subscriptions/{sub_id}/", json={"secret": "wrong"}).status_code == 400
    confirm = api.post(f"hooks/subscriptions/{sub_id}/", json={"secret": created.headers["X-Hook-Secret"]})
    assert confirm.status_code == 200 and confirm.json()["is_enabled"]
    return str(secret)


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in receiver.received]


def test_deliveries_are_signed_over_timestamp_and_raw_body(
    api: httpx.Client, running: RunningEmulator, driver: EmulatorDriver, receiver: Receiver
) -> None:
    secret = subscribe(api, running, receiver.url)
    study = new_study(api)
    sub = driver.start(driver.reserve(study["id"], "p1")["id"])
    driver.return_submission(sub["id"])
    assert driver.flush() == 3
    assert [e["status"] for e in events(receiver)] == ["RESERVED", "ACTIVE", "RETURNED"]
    for request in receiver.received:
        headers = request["headers"]
        stamp = headers["X-Prolific-Request-Timestamp"]
        assert headers["X-Prolific-Request-Signature"] == sign(secret, stamp, request["body"])
        assert headers["X-Event-Id"] and headers["X-Timestamp"]
    assert events(receiver)[0] == {
        "resource_id": sub["id"],
        "event_type": "submission.status.change",
        "participant_id": "p1",
        "status": "RESERVED",
    }


def test_duplicate_and_reorder_switches(
    api: httpx.Client, running: RunningEmulator, driver: EmulatorDriver, receiver: Receiver
) -> None:
    subscribe(api, running, receiver.url)
    driver.switches(duplicate=True, reorder=True)
    study = new_study(api)
    driver.start(driver.reserve(study["id"])["id"])
    assert driver.flush() == 4
    assert [e["status"] for e in events(receiver)] == ["ACTIVE", "ACTIVE", "RESERVED", "RESERVED"]
    ids = [r["headers"]["X-Event-Id"] for r in receiver.received]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


def test_drop_switch_loses_deliveries_and_logs_them(
    api: httpx.Client, running: RunningEmulator, driver: EmulatorDriver, receiver: Receiver
) -> None:
    subscribe(api, running, receiver.url)
    driver.switches(drop_rate=1.0)
    study = new_study(api)
    driver.reserve(study["id"])
    assert driver.flush() == 0 and receiver.received == []
    sub_id = next(iter(running.emulator.state.subscriptions))
    assert [e["status"] for e in api.get(f"hooks/subscriptions/{sub_id}/events/").json()["results"]] == ["DROPPED"]


def test_failed_deliveries_are_retried_with_backoff(
    api: httpx.Client, running: RunningEmulator, driver: EmulatorDriver, receiver: Receiver
) -> None:
    subscribe(api, running, receiver.url)
    driver.switches(retry_s=10.0)
    receiver.statuses = [500]
    study = new_study(api)
    driver.reserve(study["id"])
    assert running.emulator.deliverer.flush() == 1
    assert running.emulator.deliverer.flush() == 0  # not due yet
    driver.advance(10)
    assert running.emulator.deliverer.flush() == 1
    assert len(receiver.received) == 2
    assert receiver.received[0]["headers"]["X-Event-Id"] == receiver.received[1]["headers"]["X-Event-Id"]
