"""The /worker Socket.IO namespace: token-checked connect, one private room per stint, heartbeat, leave, ready."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import request
from flask_socketio import Namespace, emit, join_room
from socketio.exceptions import ConnectionRefusedError

from pavilion.runtime.errors import ServiceError
from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.notify import WORKER_NAMESPACE, worker_room
from pavilion.runtime.tokens import TokenError, WorkerClaim
from pavilion.runtime.worker import sweeper
from pavilion.runtime.worker.side import WorkerSide
from pavilion.runtime.worker.stint import Stint, StintError, load_stint, max_waiting_s
from pavilion.runtime.worker.stint_cache import message_now
from pavilion.runtime.worker.validate import EVENTS, PayloadError, check_event, leave_how, no_payload, token_of

log = logging.getLogger(__name__)

Reply = dict[str, Any]


class Refused(Exception):
    """A well-formed event that does not fit the stint's situation (left, stopped, not promoted, too early)."""


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]  # set by Flask-SocketIO for socket events
    return sid


def _still_here(stint: Stint) -> Stint:
    if not stint.present:
        raise ConnectionRefusedError(f"you have already left this session ({stint.how_left})")
    return stint


def _check_stint(event: str, stint: Stint) -> None:
    """Refuse events from a stint that has left, and anything but submitting once the session stopped."""
    if not stint.present:
        raise Refused(f"you have already left this session ({stint.how_left}); {event} is not possible")
    if stint.project_status == "stopped":
        emit("stop", {}, to=_sid())  # the page may have missed it: say it again
        raise Refused(f"session {stint.project_id} has stopped: only submitting your work is possible now")


class WorkerNamespace(Namespace):  # type: ignore[misc]  # flask_socketio ships no type hints
    """Each connection is one worker's page, authenticated by its token; it only ever joins its own room."""

    def __init__(self, side: WorkerSide) -> None:
        super().__init__(WORKER_NAMESPACE)
        self.side = side
        self._claims: dict[str, WorkerClaim] = {}
        self._guard = threading.Lock()
        self._handlers: dict[str, Callable[[WorkerClaim, tuple[Any, ...]], Reply]] = {
            "heartbeat": self._heartbeat,
            "leave": self._leave,
            "ready": self._ready,
        }

    # ---- connection --------------------------------------------------------------------------------------------
    def on_connect(self, auth: Any = None) -> None:
        try:
            claim = self.side.tokens.verify(token_of(auth))
            _still_here(load_stint(self.side.runtime, claim))  # this worker's own stint, before joining its room
            join_room(worker_room(claim.assignment_key))
            # Read again from inside the room: a promotion committed between the first read and the join was sent
            # to the room before this page was in it (and is never sent again); one after this read reaches it.
            stint = _still_here(load_stint(self.side.runtime, claim))
        except (PayloadError, TokenError, StintError) as exc:
            raise ConnectionRefusedError(str(exc)) from None
        sid = _sid()
        self.side.stints.put(stint)
        with self._guard:
            self._claims[sid] = claim
        self.side.presence.connected(sid, claim.project_id, claim.assignment_key)
        self._share(claim.assignment_key, claim.project_id)
        # A (re)connect gets the current state at once: a reload within the grace finds its place as it was.
        emit("queue", stint.message, to=sid)
        if stint.queue == "active":
            emit("promoted", {"url": stint.task_url}, to=sid)
        if stint.project_status == "stopped":
            emit("stop", {}, to=sid)

    def on_disconnect(self, reason: Any = None) -> None:
        sid = _sid()
        with self._guard:
            self._claims.pop(sid, None)
        key = self.side.presence.disconnected(sid)
        if key is not None:
            seen = self.side.presence.get(key)
            self._share(key, seen.project_id if seen is not None else None)
            if seen is None or not seen.sids:
                self.side.stints.forget(key)  # its last socket here: nothing left to answer

    def _share(self, key: str, project_id: int | None) -> None:
        """A socket opened or closed: the other processes' sweeps see it at once (heartbeats wait for the flush),
        and the project's dashboards are told to read who is connected again (a hint: the table is the truth)."""
        try:
            sweeper.flush(self.side, {key})
        except Exception as exc:  # the periodic flush retries; the socket itself is fine
            log.warning("presence of %s not written yet: %s", key, exc)
            return
        if project_id is not None:
            try:
                self.side.runtime.notifier.to_admins(project_id, "presence", {"id": project_id})
            except Exception:  # a dashboard catches up on its next snapshot
                log.exception("presence hint for project %s not sent", project_id)

    # ---- events --------------------------------------------------------------------------------------------------
    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route unknown events to `on_unknown` (with their name), so they get an error rather than silence.

        A client may also send events named `connect` or `disconnect`; those arrive while the socket is fully
        connected, whereas the server's own connect and disconnect run while it is pending, so they are told apart."""
        sid = args[0]
        if event in ("connect", "disconnect"):
            if not self.socketio.server.manager.is_connected(sid, self.namespace):
                return super().trigger_event(event, *args)
        elif event in EVENTS:
            return super().trigger_event(event, *args)
        return super().trigger_event("unknown", sid, event, *args[1:])

    def describe(self, eio_sid: str) -> str:
        """Which stint a connection holds, for log lines ('' if none)."""
        sid = self.socketio.server.manager.sid_from_eio_sid(eio_sid, self.namespace)
        with self._guard:
            claim = self._claims.get(sid) if sid else None
        return f"stint {claim.assignment_key}" if claim else ""

    def on_heartbeat(self, *payload: Any) -> Reply:
        return self._dispatch("heartbeat", *payload)

    def on_leave(self, *payload: Any) -> Reply:
        return self._dispatch("leave", *payload)

    def on_ready(self, *payload: Any) -> Reply:
        return self._dispatch("ready", *payload)

    def on_unknown(self, event: Any, *payload: Any) -> Reply:
        return self._dispatch(event, *payload)

    def _dispatch(self, event: Any, *payload: Any) -> Reply:
        """Validate, run the handler, and answer a refusal with an `error` event to this client only."""
        sid = _sid()
        try:
            check_event(event, payload)
            with self._guard:
                claim = self._claims.get(sid)
            if claim is None:
                raise Refused("this connection has no worker token")
            return self._handlers[event](claim, payload)
        except (PayloadError, Refused, StintError, ServiceError) as exc:
            message = str(exc)
        except Exception:
            log.exception("worker event %s failed", event)
            message = f"the server could not handle {event}; please try again"
        emit("error", {"message": message}, to=sid)
        return {"ok": False, "error": message}

    def _heartbeat(self, claim: WorkerClaim, payload: tuple[Any, ...]) -> Reply:
        """Alive: the grace restarts, and the page gets its `queue` message with pay earned by the server clock."""
        no_payload("heartbeat", payload)
        stint = self.side.stints.get(claim.assignment_key)
        if stint is None:  # not read lately (or moved queue): once, then from the cache again
            stint = load_stint(self.side.runtime, claim)
            self.side.stints.put(stint)
        _check_stint("heartbeat", stint)
        self.side.presence.heartbeat(claim.assignment_key)
        emit("queue", message_now(stint, self.side.runtime.clock()), to=_sid())
        return {"ok": True}

    def _ready(self, claim: WorkerClaim, payload: tuple[Any, ...]) -> Reply:
        """The promoted worker's page shows the task."""
        no_payload("ready", payload)
        stint = load_stint(self.side.runtime, claim)
        self.side.stints.put(stint)
        _check_stint("ready", stint)
        if stint.queue != "active":
            raise Refused("ready is sent only after a promotion")
        self.side.presence.ready(claim.assignment_key)
        self.side.runtime.service.ready(claim.project_id, claim.assignment_key)
        return {"ok": True}

    def _leave(self, claim: WorkerClaim, payload: tuple[Any, ...]) -> Reply:
        """The worker is done (`submitted`, paid) or gives up (`returned`); one departure for the service.

        The rules are checked under the project's lock, so two tabs leaving at once are one departure."""
        how = leave_how(payload)
        self.side.runtime.service.depart(
            claim.project_id, claim.assignment_key, how, source="socket", check=leave_rule(claim, how)
        )
        self.side.presence.forget(claim.assignment_key)
        self.side.stints.forget(claim.assignment_key)
        return {"ok": True, "how": how}


def leave_rule(claim: WorkerClaim, how: str) -> Callable[[Project, Assignment, datetime], None]:
    """A worker's own `leave`: their own stint, not already left; after stop only a submission; and a waiting
    worker may leave with pay (`submitted`) only after the project's waiting time."""

    def check(project: Project, assignment: Assignment, now: datetime) -> None:
        if assignment.worker.platform_worker_id != claim.worker_id:
            raise StintError("this link belongs to another worker", 403)
        if assignment.left_at is not None:
            raise Refused(f"you have already left this session ({assignment.how_left})")
        stopped = project.status == "stopped"
        if stopped and how != "submitted":
            raise Refused(f"session {project.id} has stopped: submit your work instead")
        if how == "submitted" and assignment.queue == "waiting" and not stopped:
            wait_s = max_waiting_s(project.task) - (now - assignment.joined_at).total_seconds()
            if wait_s > 0:
                raise Refused(f"you may leave with pay after {math.ceil(wait_s)} more seconds in the waiting room")

    return check
