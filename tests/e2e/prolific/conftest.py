"""An end-to-end Prolific session: the emulator and a runtime app, both over HTTP on loopback, webhooks between."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.server import RunningEmulator, running_emulator

TOKEN = "e2e-token-not-a-secret"


def prolific_id(name: str) -> str:
    """A Prolific participant id (24 hexadecimal digits, as Prolific issues them) for a test participant's name."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]


class ServerClock:
    """The runtime's clock, moved by the test so waiting and active pay are whole cents."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Dispatcher:
    """A WSGI front whose app can be swapped: a 'restart' replaces the app behind the same address."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "no runtime app is up"
        return self.app(environ, start_response)


@dataclass
class Front:
    dispatcher: Dispatcher
    url: str


@pytest.fixture
def front() -> Iterator[Front]:
    """A loopback address for the runtime, known before the app is built (PUBLIC_URL needs it)."""
    dispatcher = Dispatcher()
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Front(dispatcher, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def runtime_config(tmp_path: Path, emulator_api: str, public_url: str, clock: ServerClock) -> dict[str, Any]:
    return {
        "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}",
        "SECRET_KEY": "e2e-secret-key",
        "ASYNC_MODE": "threading",
        "BACKGROUND_TASKS": False,
        "PUBLIC_URL": public_url,
        "CLOCK": clock,
        "PROLIFIC_TOKEN": TOKEN,
        "PROLIFIC_API_URL": emulator_api,
        "PROLIFIC_BACKOFF_S": 0.001,
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(ProlificEmulator(token=TOKEN, clock=ManualClock(), seed=11), deliver=False) as live:
        yield live


@pytest.fixture
def driver(emulator: RunningEmulator) -> Iterator[EmulatorDriver]:
    drv = EmulatorDriver(emulator.url)
    yield drv
    drv.close()
