"""When a WebSocket ends on gevent's server, its TCP connection ends too: pywsgi would keep it for more HTTP.

Engine.IO's websocket handler (simple-websocket under gevent) returns like any WSGI app when the websocket ends, and
gevent's pywsgi, given no `Connection: close`, keeps the connection and reads the next HTTP request from it. The
client (or nginx in front of us) is never told that the server is done: the connection stays open, and whatever
the client sends next is parsed as HTTP ("Invalid HTTP method: '\\x81...'") and answered with a 400 written into
its WebSocket stream. If the server ended without a close frame (its reader stopped first), a page hears nothing
more and its next event is lost. So here, once the handler returns, the close frame goes out if it has not yet,
and the connection is shut down and its input closed: the client (through nginx) sees it end at once and
reconnects, and pywsgi closes it without parsing what is left in it. gunicorn's and eventlet's servers close the
connection themselves; the werkzeug one (threading) is told to by simple-websocket.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError


def connection(environ: dict[str, Any]) -> tuple[Any, Any]:
    """The client connection's socket and input stream as gevent's pywsgi holds them ((None, None) under any other
    server). For an upgrade request pywsgi hands the app its own input stream (the one it reads requests from)."""
    if "gunicorn.socket" in environ or "werkzeug.socket" in environ or "eventlet.input" in environ:
        return None, None
    if not str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent"):
        return None, None
    stream: Any = environ.get("wsgi.input")
    if not hasattr(stream, "raw") and hasattr(stream, "rfile"):
        stream = stream.rfile
    sock = getattr(getattr(stream, "raw", None), "_sock", None)
    return (sock, stream) if sock is not None else (None, None)


def hang_up(ws: Any, environ: dict[str, Any]) -> None:
    """After the websocket `ws` (a simple_websocket.Server) ended: close frame if none was sent, then shutdown."""
    sock, stream = connection(environ)
    if sock is None:
        return
    protocol = getattr(ws, "ws", None)  # wsproto's state machine: OPEN means no close frame has gone either way
    if protocol is not None and protocol.state is ConnectionState.OPEN:
        with contextlib.suppress(OSError, LocalProtocolError):
            sock.sendall(protocol.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE)))
    if ws is not None:
        ws.connected = False  # its reader task (blocked on the socket) ends with the shutdown below
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # FIN to the client, whichever descriptor (simple-websocket reads a dup)
    with contextlib.suppress(OSError, ValueError):
        stream.close()  # pywsgi sees its input closed: no next request is read, and the connection is closed
