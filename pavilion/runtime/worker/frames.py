"""Malformed Socket.IO and Engine.IO frames (bad JSON, junk bytes, unknown packet types, empty frames) are refused
with one log line each, not a traceback: a hostile client must not fill the server's log.

python-socketio raises on such frames and python-engineio logs the exception with its traceback; `guard()` wraps
the server's Engine.IO message handler, the websocket's receive (for empty frames, which Engine.IO cannot decode
at all), and shortens Engine.IO's log of an undecodable long-polling body. An exception on a frame that decodes
as a well-formed packet is still logged in full: that is a bug of ours, not a bad client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from socketio import packet

from pavilion.runtime.worker import hangup

log = logging.getLogger(__name__)
PREVIEW = 60  # characters of a refused frame quoted in the log line
MALFORMED = (ValueError, KeyError, IndexError, TypeError, RecursionError)  # JSON errors are ValueErrors
CLIENT_TYPES = (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK, packet.BINARY_EVENT, packet.BINARY_ACK)


def preview(data: object) -> str:
    text = repr(data[:PREVIEW]) if isinstance(data, str | bytes) else type(data).__name__
    size = len(data) if isinstance(data, str | bytes) else 0
    return f"{text}{'...' if size > PREVIEW else ''} ({size} bytes)" if size else text


def malformation(server: Any, eio_sid: str, data: Any) -> str | None:
    """Why a frame that made the server raise is the client's fault, or None if it is well formed."""
    try:
        pkt = server.packet_class(encoded_packet=data)
    except MALFORMED as exc:
        return f"undecodable ({type(exc).__name__}: {str(exc)[:80]})"
    if pkt.packet_type not in CLIENT_TYPES:
        return f"packet type {pkt.packet_type} is not one a client sends"
    if pkt.packet_type in (packet.EVENT, packet.BINARY_EVENT) and (not isinstance(pkt.data, list) or not pkt.data):
        return "an event without a name"
    if pkt.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK):
        return "a binary packet outside a connected namespace"
    return None


def _message_guard(server: Any) -> Callable[[str, Any], Any]:
    handle = server._handle_eio_message

    def on_message(eio_sid: str, data: Any) -> Any:
        try:
            return handle(eio_sid, data)
        except MALFORMED:
            if isinstance(data, bytes) and eio_sid in getattr(server, "_binary_packet", {}):
                raise  # an attachment: any failure here is the library's, keep the traceback
            reason = malformation(server, eio_sid, data)
            if reason is None:
                raise
            log.warning("malformed Socket.IO frame from %s refused: %s: %s", eio_sid, reason, preview(data))
            return None

    return on_message


class _YieldingSocket:
    """The connection's TCP socket as simple-websocket's reader task sees it: it pauses before each read (under
    gevent a reader with data always waiting never yields, so one streaming client would hold the whole server),
    and stops reading once the server has closed the connection (else the reader would go on parsing everything
    a flooding client still sends)."""

    def __init__(
        self, sock: Any, pause: Callable[[float], None], is_open: Callable[[], bool], closing: Callable[[], bool]
    ) -> None:
        self._sock = sock
        self._pause = pause
        self._is_open = is_open
        self._closing = closing  # the websocket has not sent its close frame yet

    def recv(self, size: int) -> Any:
        self._pause(0)
        if not self._is_open():
            # Let the writer send the close first (a failed send would leave Engine.IO waiting on its queue).
            for _ in range(200):
                if not self._closing():
                    break
                self._pause(0.01)
            raise OSError("connection closed by the server")
        return self._sock.recv(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _websocket_guard(base: type, pause: Callable[[float], None], is_open: Callable[[str], bool]) -> type:
    class GuardedWebSocket(base):  # type: ignore[misc]  # engineio's websocket wrapper, untyped
        """Empty frames close the connection with a log line (Engine.IO would raise on decoding them); the
        socket's reads yield to others and end with the connection (simple-websocket reads in a task of its own);
        the connection ends with the websocket (pavilion.runtime.worker.hangup)."""

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            try:
                return super().__call__(environ, start_response)
            finally:
                hangup.hang_up(getattr(self, "ws", None), environ)

        def wait(self) -> Any:
            ws = getattr(self, "ws", None)
            if ws is not None and hasattr(ws, "sock") and not isinstance(ws.sock, _YieldingSocket):
                # The handler is the Engine.IO socket's bound method: its `sid` names the connection.
                eio_sid = getattr(getattr(getattr(self, "app", None), "__self__", None), "sid", None)
                ws.sock = _YieldingSocket(
                    ws.sock, pause, lambda: eio_sid is None or is_open(eio_sid), lambda: bool(ws.connected)
                )
            data = super().wait()
            if data is not None and len(data) == 0:
                log.warning("empty websocket frame refused; connection closed")
                return None  # as if the client had closed: Engine.IO cleans up normally
            return data

    return GuardedWebSocket


class PollingPayloadFilter(logging.Filter):
    """Engine.IO logs an undecodable long-polling body with a traceback ('post request handler error'); only the
    client's bytes can raise there (the message handler's own errors are caught and logged before), so one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "post request handler error" and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg = "malformed Engine.IO polling payload refused: %s: %s"
            record.args = (type(exc).__name__, str(exc)[:80])
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def guard(socketio: Any) -> None:
    """Install the guards on a Flask-SocketIO server (once; a second call is a no-op)."""
    server = socketio.server
    eio = server.eio
    if getattr(eio, "_pavilion_guarded", False):
        return
    server._handle_eio_message = _message_guard(server)  # the attribute too: the flood gate wraps this one
    eio.on("message", server._handle_eio_message)
    if not any(isinstance(f, PollingPayloadFilter) for f in eio.logger.filters):
        eio.logger.addFilter(PollingPayloadFilter())
    drivers = dict(eio._async)
    if isinstance(drivers.get("websocket"), type) and hasattr(drivers["websocket"], "wait"):
        drivers["websocket"] = _websocket_guard(
            drivers["websocket"], socketio.sleep, lambda eio_sid: eio_sid in server.environ
        )
        eio._async = drivers  # this server's copy; the driver module's table is untouched
    eio._pavilion_guarded = True
