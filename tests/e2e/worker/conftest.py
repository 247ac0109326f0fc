"""A whole live session on the local platform: an app on a manual clock and workers as page + socket pairs."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.worker.side import get_worker_side

NS = "/worker"
PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")],
    ),
]
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')


class ManualClock:
    """The server clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Worker:
    """One person: opens the join link like a browser, keeps the live page's token, talks over /worker."""

    def __init__(self, app: Flask, project_id: int) -> None:
        self.app = app
        response = app.test_client().get(f"/join/{project_id}", follow_redirects=True)
        assert response.status_code == 200 and len(response.history) == 2, response.get_data(as_text=True)
        self.live_url = response.request.path + "?" + response.request.query_string.decode()
        match = TOKEN_META.search(response.get_data(as_text=True))
        assert match
        self.token = match.group(1)
        self.key = get_worker_side(app).tokens.verify(self.token).assignment_key
        self.socket: Any = None
        self.inbox: list[tuple[str, Any]] = []
        self.connect()

    def connect(self) -> None:
        self.socket = self.app.extensions["socketio"].test_client(self.app, namespace=NS, auth={"token": self.token})
        assert self.socket.is_connected(NS)

    def reload(self) -> str:
        """The browser reloads the live page (a new socket follows); returns the page's data-state."""
        if self.socket.is_connected(NS):
            self.socket.disconnect(NS)
        html = self.app.test_client().get(self.live_url).get_data(as_text=True)
        self.connect()
        found = re.search(r'data-state="(\w+)"', html)
        return found.group(1) if found else ""

    def close(self) -> None:
        """The tab is closed."""
        self.socket.disconnect(NS)

    def read(self) -> list[tuple[str, Any]]:
        """Messages since the last read (event, payload), also kept in `inbox`."""
        if self.socket.is_connected(NS):
            new = [(m["name"], m["args"][0] if m["args"] else None) for m in self.socket.get_received(NS)]
            self.inbox.extend(new)
            return new
        return []

    def events(self) -> list[str]:
        return [name for name, _ in self.read()]

    def send(self, event: str, *args: Any) -> Any:
        return self.socket.emit(event, *args, namespace=NS, callback=True)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, scratch_database: Callable[[str, str], AbstractContextManager[str]]
) -> Iterator[str]:
    """SQLite in the test folder, or a fresh PostgreSQL schema (dropped afterwards) when one is configured."""
    with scratch_database(request.param, "pavilion_worker") as url:
        yield url


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock, database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "worker-e2e-secret",
            "ASYNC_MODE": "threading",
            "BACKGROUND_TASKS": False,
            "CLOCK": clock,
        }
    )
    yield app
    get_runtime(app).shutdown()
