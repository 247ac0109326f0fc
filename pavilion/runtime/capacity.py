"""The connection ceiling, set on purpose: open-file limit raised, joins past a cap refused at once, admin kept up.

eventlet's default pool of 1,024 connections used to be the ceiling: past it new joins hung and `/admin/login`
and the API timed out, so an admin could not stop the session. Now the server accepts without a pool (gevent's
default; gunicorn's `--worker-connections` sized above the cap) and the file descriptor limit is raised to what
the system allows; what bounds the crowd is `MAX_WORKERS_CONNECTED` per process: a join link or task link that
arrives while this process holds that many Socket.IO connections gets a clear "full" page (503) at once. Pages
and sockets of workers already placed, the admin pages and the API are never counted against it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, request

log = logging.getLogger(__name__)

RESERVE = 512  # connections kept above the cap for admins, the API, reloads and Socket.IO's own polling
JOIN_PATH = re.compile(r"^/(?:join|task)/[^/]+/?$")  # new placements; /task/<id>/live (a reload) is not one
FULL_MESSAGE = (
    "This session has as many workers connected as it can take right now. Please return the task "
    "(you will not be penalised) or try again in a few minutes."
)


def raise_open_files(wanted: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE toward `wanted` (at most the hard limit); (soft before, soft after)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return (-1, -1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %d to %d", soft, target)
            return (soft, soft)
    return (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def connected(socketio: Any) -> int:
    """Socket.IO (engine.io) connections open on this process."""
    server = getattr(socketio, "server", None)
    eio = getattr(server, "eio", None)
    return len(getattr(eio, "sockets", {}))


def init_app(app: Flask, socketio: Any) -> None:
    """Refuse new joins on this process once it holds MAX_WORKERS_CONNECTED connections (0: no cap)."""
    from pavilion.runtime.worker.routes import message_page

    cap = int(app.config["MAX_WORKERS_CONNECTED"])
    if cap <= 0:
        return

    @app.before_request
    def refuse_when_full() -> Any:
        if request.method != "GET" or not JOIN_PATH.match(request.path):
            return None
        if connected(socketio) < cap:
            return None
        log.warning("join refused: %d connections on this process (PAVILION_MAX_WORKERS_CONNECTED=%d)",
                    connected(socketio), cap)
        response = message_page("This session is full", FULL_MESSAGE, 503)
        response.headers["Retry-After"] = "60"
        return response
