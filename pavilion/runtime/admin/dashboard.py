"""The `/admin` Socket.IO namespace: logged-in admins only; each socket watches one existing project's room."""

from __future__ import annotations

import threading
from typing import Any

from flask import request, session
from flask_login import current_user
from flask_socketio import Namespace, join_room, leave_room, rooms

from pavilion.runtime.admin import queries
from pavilion.runtime.admin.presence_view import dashboard_presence
from pavilion.runtime.admin.runtime import database
from pavilion.runtime.models import Project
from pavilion.runtime.notify import ADMIN_NAMESPACE, project_room
from pavilion.runtime.snapshots import snapshot

MAX_ID = 2**31 - 1
LOGIN_KEY = "pavilion_admin_login"  # session key: a random id per login, to find that login's sockets at logout


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]  # set by Flask-SocketIO for socket events
    return sid


def _int_field(data: dict[str, Any], key: str, default: int | None = None) -> int:
    """A non-negative integer from a socket payload; ValueError names the field."""
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


def parse_watch(data: Any) -> tuple[int, int]:
    """(project_id, after) from a `watch` / `events` payload; ValueError on anything else."""
    if not isinstance(data, dict) or set(data) - {"project_id", "after"}:
        raise ValueError("expected {\"project_id\": int, \"after\": int}")
    return _int_field(data, "project_id"), _int_field(data, "after", 0)


def _refused(reason: str) -> dict[str, str]:
    return {"error": reason}


class AdminNamespace(Namespace):  # type: ignore[misc]  # flask_socketio ships no type hints
    """connect (login required), `watch` (join a project's room, get its snapshot and recent events), `events`."""

    def __init__(self, namespace: str = ADMIN_NAMESPACE) -> None:
        super().__init__(namespace)
        self._logins: dict[str, str] = {}  # socket id -> the login it was opened under (see end_login)
        self._guard = threading.Lock()

    def on_connect(self, auth: Any = None) -> bool:
        # The Flask-Login session cookie rides on the handshake; no session, no socket.
        if not current_user.is_authenticated:
            return False
        with self._guard:
            self._logins[_sid()] = str(session.get(LOGIN_KEY, ""))
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        with self._guard:
            self._logins.pop(_sid(), None)

    def end_login(self, login: str) -> None:
        """Close the sockets opened under a login that just logged out (they keep a copy of the old session)."""
        with self._guard:
            sids = [sid for sid, opened_under in self._logins.items() if opened_under == login]
        for sid in sids:
            self.disconnect(sid)

    def on_watch(self, data: Any) -> dict[str, Any]:
        if not current_user.is_authenticated:
            return _refused("login required")
        try:
            project_id, after = parse_watch(data)
        except ValueError as error:
            return _refused(str(error))
        with database().session_scope() as db_session:
            project = db_session.get(Project, project_id)
            if project is None:
                return _refused(f"no project {project_id}")
            reply = snapshot(db_session, project)
            reply["events"] = queries.recent_events(db_session, project_id, after)
            reply["workers"] = queries.present_workers(db_session, project_id)
            reply["presence"] = dashboard_presence(db_session, project_id, reply["workers"])
        for room in rooms(namespace=ADMIN_NAMESPACE):
            if room.startswith("project:"):
                leave_room(room)  # one project per socket: a dashboard watches the page it is on
        join_room(project_room(project_id))
        return reply

    def on_events(self, data: Any) -> dict[str, Any]:
        """Events after a given id, the present workers' platform ids and who of them is connected or away, for a
        project this socket watches (the pushed snapshot carries none of these)."""
        if not current_user.is_authenticated:
            return _refused("login required")
        try:
            project_id, after = parse_watch(data)
        except ValueError as error:
            return _refused(str(error))
        if project_room(project_id) not in rooms(namespace=ADMIN_NAMESPACE):
            return _refused("watch the project first")
        with database().session_scope() as db_session:
            workers = queries.present_workers(db_session, project_id)
            return {
                "id": project_id,
                "events": queries.recent_events(db_session, project_id, after),
                "workers": workers,
                "presence": dashboard_presence(db_session, project_id, workers),
            }
