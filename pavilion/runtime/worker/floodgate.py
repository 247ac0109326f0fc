"""Per-connection event limits applied where frames arrive, before Socket.IO does any work for them.

python-socketio starts a handler task per event and Flask-SocketIO builds an app and request context in it, so a
limit checked inside a handler still pays that for every frame: 20,000 frames from one client kept everyone else
waiting for seconds. Here the connection's token bucket (pavilion.runtime.worker.ratelimit) is taken in the
Engine.IO message handler, on the connection's own reader: a frame over the limit costs a dictionary lookup. Every
Socket.IO packet counts (a namespace connect reads the database, so it is no cheaper than an event); the first
drop of a streak is answered with one `error` event; persistent abuse closes the connection with one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pavilion.runtime.worker.ratelimit import EventLimiter, Verdict

log = logging.getLogger(__name__)


def namespace_of(data: object) -> str:
    """The namespace a Socket.IO packet names (`2/worker,[...]`, `51-/worker,[...]`), '/' when none."""
    if not isinstance(data, str):
        return "/"
    start = data.find("/", 1, 12)  # after the type and any attachment count
    if start < 0 or (start > 1 and not data[1:start].rstrip("-").isdigit()):
        return "/"
    end = data.find(",", start)
    return data[start : end if end >= 0 else len(data)][:64]


def install(socketio: Any, limiter: EventLimiter, describe: Callable[[str], str] = lambda eio_sid: "") -> None:
    """Limit every connection of this Flask-SocketIO server; `describe(eio_sid)` names who it is in the log line."""
    server = socketio.server
    inner_message = server._handle_eio_message
    inner_disconnect = server._handle_eio_disconnect

    def on_message(eio_sid: str, data: Any) -> Any:
        if eio_sid not in server.environ:
            return None  # the connection is already closed: frames still buffered are dropped unread
        verdict = limiter.admit(eio_sid)
        if verdict is Verdict.ADMIT:
            return inner_message(eio_sid, data)
        if verdict is Verdict.WARN:
            _warn(server, limiter, eio_sid, namespace_of(data))
        elif verdict is Verdict.ABUSE:
            who = describe(eio_sid)
            log.warning("connection %s%s closed: %d events over its limit", eio_sid, f" ({who})" if who else "",
                        limiter.dropped(eio_sid))
            _close(server, eio_sid)
        return None

    def on_disconnect(eio_sid: str, *args: Any) -> Any:
        limiter.forget(eio_sid)
        return inner_disconnect(eio_sid, *args)

    # Both the Engine.IO server's handlers and the attributes (which Flask-SocketIO's test client calls directly).
    server._handle_eio_message = on_message
    server._handle_eio_disconnect = on_disconnect
    server.eio.on("message", on_message)
    server.eio.on("disconnect", on_disconnect)


def _warn(server: Any, limiter: EventLimiter, eio_sid: str, namespace: str) -> None:
    sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
    if sid is not None:
        message = f"too many events: at most {limiter.burst:g} at once and {limiter.per_s:g} a second; dropped"
        server.emit("error", {"message": message}, to=sid, namespace=namespace)


def _close(server: Any, eio_sid: str) -> None:
    """Every namespace of the connection, then the connection itself (so it cannot just connect again on it)."""
    for namespace in list(server.manager.get_namespaces()):
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None:
            server.disconnect(sid, namespace=namespace)
    server.eio.disconnect(eio_sid)  # a no-op where there is no such connection (the test client)
