"""The /worker protocol over a real HTTP server with a real Socket.IO client (what the page's JS does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import socketio
from flask import Flask
from werkzeug.serving import make_server

from pavilion.runtime.context import Runtime

from .conftest import enter, make_project

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def _client() -> socketio.Client:
    return socketio.Client(reconnection=False, request_timeout=10)


def _refusal(server: str, auth: Any) -> str:
    """Connect with `auth` and return the message of the server's refusal (the page's connect_error)."""
    client = _client()
    reasons: list[Any] = []
    client.on("connect_error", reasons.append, namespace="/worker")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server, namespaces=["/worker"], auth=auth, transports=["polling"], wait_timeout=10)
    client.disconnect()
    assert len(reasons) == 1
    return str(reasons[0]["message"])


def test_a_refused_connection_tells_the_client_why(app: Flask, runtime: Runtime, server: str) -> None:
    make_project(runtime)
    assert "bad signature" in _refusal(server, {"token": "eyJwIjoxfQ.forged.sig"})
    assert "a worker token is required" in _refusal(server, None)


def test_a_worker_connects_and_hears_its_queue_state_and_errors(app: Flask, runtime: Runtime, server: str) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    token = enter(app, project_id).token
    client = _client()
    got: dict[str, threading.Event] = {"queue": threading.Event(), "error": threading.Event()}
    payloads: dict[str, Any] = {}

    def remember(event: str) -> Any:
        def handler(data: Any) -> None:
            payloads[event] = data
            got[event].set()

        return handler

    client.on("queue", remember("queue"), namespace="/worker")
    client.on("error", remember("error"), namespace="/worker")
    client.connect(server, namespaces=["/worker"], auth={"token": token}, transports=["polling"], wait_timeout=10)
    try:
        assert got["queue"].wait(10) and payloads["queue"]["queue"] == "waiting"
        assert client.call("heartbeat", namespace="/worker", timeout=10) == {"ok": True}
        client.emit("leave", {"how": "later"}, namespace="/worker")
        assert got["error"].wait(10) and "got 'later'" in payloads["error"]["message"]
    finally:
        client.disconnect()
