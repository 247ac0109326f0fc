"""A Prolific place reserved but never started: the study link the emulator hands out gets a clear refusal page,
and the same link joins once the participant has started the study on Prolific."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.projects import parse_project

from .conftest import Front, ServerClock, prolific_id, runtime_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PROJECT = {
    "name": "reserved place",
    "policy": {"name": "pavilion", "min_active": 2, "max_active": 2, "min_waiting": 1, "max_waiting": 1},
    "platform": {"name": "prolific", "estimated_minutes": 15},
    "pay": {"reward": "1.00"},
    "task": {"title": "Drive together", "description": "Wait for a team, then play.", "url": "https://task.test/"},
}


def test_a_reserved_place_is_refused_with_a_page_until_started(
    tmp_path: Path, emulator: RunningEmulator, driver: EmulatorDriver, front: Front
) -> None:
    app = create_app(runtime_config(tmp_path, emulator.api_url, front.url, ServerClock()))
    front.dispatcher.app = app
    service = get_runtime(app).service
    project_id = service.create_project(parse_project(PROJECT))
    service.launch(project_id)
    study_id = str(service.platform_view(project_id)[1].state["study_id"])

    reserved = driver.reserve(study_id, prolific_id("p1"))
    link = reserved["study_url"]  # what the participant's browser would open
    assert link.startswith(f"{front.url}/task/{project_id}?")
    assert dict(httpx.URL(link).params) == {
        "PROLIFIC_PID": prolific_id("p1"), "STUDY_ID": study_id, "SESSION_ID": reserved["id"],
    }
    page = httpx.get(link, follow_redirects=False, timeout=20)
    assert page.status_code == 409
    assert "Cannot join" in page.text and "reserved but not started" in page.text
    assert "Start the study on Prolific" in page.text and "reload this page" in page.text
    assert service.snapshot(project_id)["waiting"] == [] and service.snapshot(project_id)["active"] == []

    driver.start(reserved["id"])
    joined = httpx.get(link, follow_redirects=False, timeout=20)  # the reload, now that Prolific shows it started
    assert joined.status_code == 303 and "token=" in joined.headers["location"]
    snap = service.snapshot(project_id)
    assert len(snap["waiting"]) + len(snap["active"]) == 1
