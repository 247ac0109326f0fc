"""Messages to browsers: a Notifier protocol, the Socket.IO implementation, and an in-memory one for tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

WORKER_NAMESPACE = "/worker"
ADMIN_NAMESPACE = "/admin"


def worker_room(assignment_key: str) -> str:
    """The private room of one worker stint; nothing else is ever sent there."""
    return f"worker:{assignment_key}"


def project_room(project_id: int) -> str:
    """The admin dashboard room of one project."""
    return f"project:{project_id}"


class Notifier(Protocol):
    """Where the policy service sends its messages after a transaction commits."""

    def to_worker(self, assignment_key: str, event: str, payload: dict[str, Any] | None = None) -> None: ...

    def to_admins(self, project_id: int, event: str, payload: dict[str, Any]) -> None: ...


class SocketIONotifier:
    """Emit in namespace /worker to one worker's room only, and in /admin to the project's room."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def to_worker(self, assignment_key: str, event: str, payload: dict[str, Any] | None = None) -> None:
        self.socketio.emit(event, payload or {}, to=worker_room(assignment_key), namespace=WORKER_NAMESPACE)

    def to_admins(self, project_id: int, event: str, payload: dict[str, Any]) -> None:
        self.socketio.emit(event, payload, to=project_room(project_id), namespace=ADMIN_NAMESPACE)


@dataclass(frozen=True)
class Message:
    """One message as the memory notifier saw it."""

    namespace: str
    room: str
    event: str
    payload: dict[str, Any]


class MemoryNotifier:
    """Keeps every message in order (service tests, rehearsals without browsers)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    def to_worker(self, assignment_key: str, event: str, payload: dict[str, Any] | None = None) -> None:
        with self._lock:
            self.messages.append(Message(WORKER_NAMESPACE, worker_room(assignment_key), event, dict(payload or {})))

    def to_admins(self, project_id: int, event: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(Message(ADMIN_NAMESPACE, project_room(project_id), event, dict(payload)))

    def for_worker(self, assignment_key: str, event: str | None = None) -> list[dict[str, Any]]:
        """Payloads sent to one worker (optionally of one event)."""
        room = worker_room(assignment_key)
        return [m.payload for m in self.messages if m.room == room and (event is None or m.event == event)]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
