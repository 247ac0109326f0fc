"""Fixtures for the worker side: an app on a manual clock, projects, and workers who open the link and connect."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from pavilion.runtime import create_app
from pavilion.runtime.context import Runtime, get_runtime
from pavilion.runtime.models import Assignment, EventLog, Outbox, Payment, Project
from pavilion.runtime.platforms.base import Identity, PlatformAssignment, PlatformProject, Preview, SubmitForm
from pavilion.runtime.platforms.local import LocalPlatform
from pavilion.runtime.projects import parse_project
from pavilion.runtime.worker.side import get_worker_side

TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')


class ManualClock:
    """The server clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class TurkLikePlatform(LocalPlatform):
    """The local platform with MTurk's preview and a POST submit form, to exercise those page paths."""

    name = "local"

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        if args.get("assignmentId") == "ASSIGNMENT_ID_NOT_AVAILABLE":
            return Preview()
        return super().identify(project, args)

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        fields = {"assignmentId": assignment.assignment_id}
        return SubmitForm(url="https://turk.test/mturk/externalSubmit", fields=fields)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}",
            "SECRET_KEY": "worker-test-secret",
            "ASYNC_MODE": "threading",
            "BACKGROUND_TASKS": False,
            "CLOCK": clock,
        }
    )
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    return get_runtime(app)


def make_project(runtime: Runtime, launch: bool = True, **overrides: Any) -> int:
    """A local project (1..2 active, 1..2 waiting unless overridden), launched by default."""
    queues = {"min_active": 1, "max_active": 2, "min_waiting": 1, "max_waiting": 2}
    queues.update({k: v for k, v in overrides.items() if k in queues})
    data: dict[str, Any] = {
        "name": "worker test",
        "policy": {"name": "pavilion", **queues},
        "platform": {"name": "local"},
        "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12"},
        "task": {"title": "Label together", "description": "Wait, then label.", "max_waiting_s": 60},
    }
    data.update({k: v for k, v in overrides.items() if k not in queues})
    project_id = runtime.service.create_project(parse_project(data))
    if launch:
        runtime.service.launch(project_id)
    return project_id


@dataclass
class Entered:
    """A worker who opened the task link and got the live page."""

    token: str
    key: str
    live_url: str
    html: str


def enter(app: Flask, project_id: int, client: Any = None, **args: str) -> Entered:
    """Open the task link (local platform) in `client` (a new browser by default), follow to the live page, read
    the token from its meta tag."""
    client = client or app.test_client()
    first = client.get(f"/task/{project_id}", query_string=args)
    assert first.status_code == 303, first.get_data(as_text=True)
    page = client.get(first.location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    match = TOKEN_META.search(html)
    assert match, "the live page carries its token in a meta tag"
    key = get_worker_side(app).tokens.verify(match.group(1)).assignment_key
    return Entered(match.group(1), key, first.location, html)


def connect(app: Flask, token: Any) -> Any:
    """A Socket.IO test client on /worker with `auth={"token": token}`."""
    socketio = app.extensions["socketio"]
    return socketio.test_client(app, namespace="/worker", auth={"token": token})


def received(client: Any, event: str | None = None) -> list[Any]:
    """Payloads the client got since the last call (of one event, if given)."""
    return [m["args"][0] if m["args"] else None for m in client.get_received("/worker") if event in (None, m["name"])]


def table_counts(runtime: Runtime) -> dict[str, int]:
    """Row counts and project versions: equal before and after a refused request means nothing changed."""
    with runtime.db.session_scope() as session:
        counts = {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Project, Assignment, EventLog, Outbox, Payment)
        }
        counts["versions"] = int(session.scalar(select(func.sum(Project.version))) or 0)
        return counts


def assignment(runtime: Runtime, key: str) -> Assignment:
    with runtime.db.session_scope() as session:
        row = session.scalars(select(Assignment).where(Assignment.key == key)).one()
        session.expunge(row)
        return row


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server (werkzeug) at 127.0.0.1, for raw websocket and python-socketio clients."""
    import threading

    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
