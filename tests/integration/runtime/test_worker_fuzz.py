"""Hypothesis fuzzes the /worker namespace (issue 17 item 7b): whatever event and payload a page sends, the server
answers without crashing, refuses what is not a valid `leave`, and nothing in the database changes for it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime

from .api_apps import database_snapshot
from .helpers import project_json

pytestmark = pytest.mark.timeout(300)
NS = "/worker"
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')
# Text as a hostile page may send it: control characters, lone surrogates, very long strings, odd names.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["submitted", "returned", "SUBMITTED", "", "\x00", "\ud800", "x" * 5000, "__proto__", "how"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
EVENTS = st.sampled_from(["heartbeat", "leave", "ready", "stop", "promoted", "queue", "connect", "disconnect",
                          "message", "join", "x" * 100]) | TEXT
ARGS = st.lists(JSON | st.dictionaries(st.just("how"), JSON, min_size=1), max_size=3)


def _is_valid_leave(event: str, args: list[Any]) -> bool:
    return event == "leave" and len(args) == 1 and args[0] in ({"how": "submitted"}, {"how": "returned"})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Any]]:
    """A launched local project with one worker present over a socket."""
    tmp = Path(tmp_path_factory.mktemp("worker-fuzz"))
    app = create_app({"INSTANCE_PATH": str(tmp), "SECRET_KEY": "s", "ENV": "testing", "ASYNC_MODE": "threading",
                      "BACKGROUND_TASKS": False, "SOCKET_EVENT_BURST": 10**9, "SOCKET_EVENT_RATE_PER_S": 10.0**9,
                      "SOCKET_ABUSE_DROPS": 10**9})
    runtime = get_runtime(app)
    from pavilion.runtime.projects import parse_project

    project = runtime.service.create_project(parse_project(project_json()))
    runtime.service.launch(project)
    page = app.test_client().get(f"/join/{project}", follow_redirects=True)
    match = TOKEN_META.search(page.get_data(as_text=True))
    assert page.status_code == 200 and match
    socket = runtime.socketio.test_client(app, namespace=NS, auth={"token": match.group(1)})
    assert socket.is_connected(NS)
    yield app, socket
    runtime.shutdown()


@given(event=EVENTS, args=ARGS)
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_payload_is_answered_and_changes_nothing(live: tuple[Flask, Any], event: str, args: list[Any]) -> None:
    app, socket = live
    if _is_valid_leave(event, args):
        return  # the one payload that does change something (tested elsewhere)
    db = get_runtime(app).db
    before = database_snapshot(db)
    socket.emit(event, *args, namespace=NS, callback=True)
    socket.get_received(NS)
    assert socket.is_connected(NS)
    assert database_snapshot(db) == before
    reply = socket.emit("heartbeat", namespace=NS, callback=True)  # the worker is still there and answered
    assert reply == {"ok": True}
