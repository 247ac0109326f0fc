"""The /admin namespace: refuses anyone not logged in, joins only existing projects, pushes snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime.context import get_runtime
from pavilion.runtime.platforms.base import Identity

from .conftest import csrf_token, login, make_project

pytestmark = pytest.mark.timeout(30)


def admin_socket(app: Flask, client: FlaskClient) -> Any:
    return get_runtime(app).socketio.test_client(app, namespace="/admin", flask_test_client=client)


def test_a_socket_without_a_login_session_is_refused(app: Flask, client: FlaskClient) -> None:
    socket = admin_socket(app, client)
    assert not socket.is_connected(namespace="/admin")


def test_watch_returns_the_snapshot_and_recent_events(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    get_runtime(app).service.launch(project_id)
    socket = admin_socket(app, admin_client)
    assert socket.is_connected(namespace="/admin")
    reply = socket.emit("watch", {"project_id": project_id}, namespace="/admin", callback=True)
    assert reply["id"] == project_id and reply["status"] == "live"
    assert [e["event"] for e in reply["events"]] == ["launched", "hire"]
    later = socket.emit("watch", {"project_id": project_id, "after": reply["events"][-1]["id"]},
                        namespace="/admin", callback=True)
    assert later["events"] == []


def test_every_step_pushes_a_snapshot_to_the_watchers(app: Flask, admin_client: FlaskClient) -> None:
    service = get_runtime(app).service
    watched, other = make_project(app), make_project(app)
    socket = admin_socket(app, admin_client)
    socket.emit("watch", {"project_id": watched}, namespace="/admin", callback=True)
    service.launch(watched)
    service.launch(other)
    key = service.join(watched, Identity("lab-1", "a-1")).assignment_key
    snapshots = [m["args"][0] for m in socket.get_received("/admin") if m["name"] == "snapshot"]
    assert [s["id"] for s in snapshots] == [watched, watched]  # nothing from the other project
    assert snapshots[-1]["waiting"] == [key]
    reply = socket.emit("events", {"project_id": watched, "after": 0}, namespace="/admin", callback=True)
    assert [e["event"] for e in reply["events"]] == ["launched", "hire", "joined"]
    assert reply["workers"] == {key: "lab-1"}  # the platform's id, to label the queue entry


def test_events_of_an_unwatched_project_are_refused(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    socket = admin_socket(app, admin_client)
    reply = socket.emit("events", {"project_id": project_id}, namespace="/admin", callback=True)
    assert reply == {"error": "watch the project first"}


@pytest.mark.parametrize(
    "payload",
    [None, "1", {"project_id": "1"}, {"project_id": True}, {"project_id": -3}, {"project_id": 1, "room": "x"}],
)
def test_bad_payloads_are_refused(app: Flask, admin_client: FlaskClient, payload: Any) -> None:
    make_project(app)
    socket = admin_socket(app, admin_client)
    reply = socket.emit("watch", payload, namespace="/admin", callback=True)
    assert set(reply) == {"error"}


def test_a_missing_project_is_not_joined(app: Flask, admin_client: FlaskClient) -> None:
    socket = admin_socket(app, admin_client)
    assert socket.emit("watch", {"project_id": 42}, namespace="/admin", callback=True) == {"error": "no project 42"}
    assert socket.emit("events", {"project_id": 42}, namespace="/admin", callback=True) == {
        "error": "watch the project first"}


def test_a_socket_follows_one_project_at_a_time(app: Flask, admin_client: FlaskClient) -> None:
    first, second = make_project(app), make_project(app)
    socket = admin_socket(app, admin_client)
    socket.emit("watch", {"project_id": first}, namespace="/admin", callback=True)
    socket.emit("watch", {"project_id": second}, namespace="/admin", callback=True)
    socket.get_received("/admin")
    get_runtime(app).service.launch(first)
    assert socket.get_received("/admin") == []


def test_logging_out_closes_that_browsers_sockets_only(app: Flask, admin_client: FlaskClient) -> None:
    other_browser = app.test_client()
    login(other_browser)
    mine, theirs = admin_socket(app, admin_client), admin_socket(app, other_browser)
    assert mine.is_connected(namespace="/admin") and theirs.is_connected(namespace="/admin")
    token = csrf_token(admin_client.get("/admin/projects").get_data(as_text=True))
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert not mine.is_connected(namespace="/admin")
    assert theirs.is_connected(namespace="/admin")
