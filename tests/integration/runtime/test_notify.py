"""Socket.IO notifier: a message to one worker reaches only that worker's room; admin snapshots only /admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIO, join_room

from pavilion.runtime.notify import ADMIN_NAMESPACE, WORKER_NAMESPACE, SocketIONotifier, project_room, worker_room


@pytest.mark.timeout(30)
def test_messages_reach_only_their_room(tmp_path: Path) -> None:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")

    @socketio.on("connect", namespace=WORKER_NAMESPACE)
    def worker_connect(auth: dict[str, str]) -> None:
        join_room(worker_room(auth["key"]), namespace=WORKER_NAMESPACE)

    @socketio.on("connect", namespace=ADMIN_NAMESPACE)
    def admin_connect(auth: dict[str, str]) -> None:
        join_room(project_room(int(auth["project"])), namespace=ADMIN_NAMESPACE)

    alice = socketio.test_client(app, namespace=WORKER_NAMESPACE, auth={"key": "alice"})
    bob = socketio.test_client(app, namespace=WORKER_NAMESPACE, auth={"key": "bob"})
    admin = socketio.test_client(app, namespace=ADMIN_NAMESPACE, auth={"project": "7"})
    other_admin = socketio.test_client(app, namespace=ADMIN_NAMESPACE, auth={"project": "8"})
    notifier = SocketIONotifier(socketio)
    notifier.to_worker("alice", "promoted", {"url": "/live"})
    notifier.to_admins(7, "snapshot", {"id": 7})
    assert alice.get_received(WORKER_NAMESPACE) == [
        {"name": "promoted", "args": [{"url": "/live"}], "namespace": WORKER_NAMESPACE}
    ]
    assert bob.get_received(WORKER_NAMESPACE) == []
    assert [m["name"] for m in admin.get_received(ADMIN_NAMESPACE)] == ["snapshot"]
    assert other_admin.get_received(ADMIN_NAMESPACE) == []
