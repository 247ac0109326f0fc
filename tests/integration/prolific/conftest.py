"""Fixtures: a Prolific emulator on loopback (manual clock), an API client, the participant driver, a hook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.server import RunningEmulator, running_emulator

TOKEN = "test-token-not-a-secret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def running(clock: ManualClock) -> Iterator[RunningEmulator]:
    with running_emulator(ProlificEmulator(token=TOKEN, clock=clock, seed=7), deliver=False) as live:
        yield live


@pytest.fixture
def api(running: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.api_url, headers={"Authorization": f"Token {TOKEN}"}, timeout=10) as client:
        yield client


@pytest.fixture
def driver(running: RunningEmulator) -> Iterator[EmulatorDriver]:
    drv = EmulatorDriver(running.url)
    yield drv
    drv.close()


@dataclass
class Receiver:
    """A webhook target that records every request and answers with the next queued status (200 when none)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append({"headers": dict(request.headers), "body": request.get_data()})
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    server = make_server("127.0.0.1", 0, target, threaded=True)
    target.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield target
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


CODES = [
    {"code": "DONE", "code_type": "COMPLETED", "actor": "researcher", "actions": [{"action": "MANUALLY_REVIEW"}]},
    {"code": "PART", "code_type": "COMPLETED", "actor": "participant", "actions": [{"action": "MANUALLY_REVIEW"}]},
]


def new_study(api: httpx.Client, places: int = 2, publish: bool = True) -> dict[str, Any]:
    """Create (and publish) a study through the API."""
    body = {
        "name": "Live study",
        "description": "A real-time task",
        "external_study_url": "https://example.org/task/1?PROLIFIC_PID={{%PROLIFIC_PID%}}&SESSION_ID={{%SESSION_ID%}}",
        "prolific_id_option": "url_parameters",
        "completion_codes": CODES,
        "total_available_places": places,
        "estimated_completion_time": 20,
        "maximum_allowed_time": 120,
        "reward": 300,
    }
    response = api.post("studies/", json=body)
    assert response.status_code == 201, response.text
    study: dict[str, Any] = response.json()
    if publish:
        response = api.post(f"studies/{study['id']}/transition/", json={"action": "PUBLISH"})
        assert response.status_code == 200, response.text
        study = response.json()
    return study
