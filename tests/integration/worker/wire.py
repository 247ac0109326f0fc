"""Raw Engine.IO / Socket.IO frames over a websocket (websocket-client): what a hostile client can send."""

from __future__ import annotations

import json
from typing import Any

import websocket


class RawSocket:
    """One Engine.IO v4 websocket connection, optionally connected to /worker with a token."""

    def __init__(self, http_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        url = http_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=timeout_s)
        opening = self.ws.recv()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        self.open = json.loads(opening[1:])
        if token is not None:
            self.send_text("40/worker," + json.dumps({"token": token}))
            reply = self.recv_until(lambda frame: frame.startswith(("40/worker", "44/worker")))
            assert reply.startswith("40/worker,"), reply

    def send_text(self, frame: str) -> None:
        self.ws.send(frame)

    def send_binary(self, frame: bytes) -> None:
        self.ws.send_binary(frame)

    def recv_until(self, wanted: Any, limit: int = 200) -> str:
        """Frames until one that `wanted(frame)` accepts (answering the server's pings on the way)."""
        for _ in range(limit):
            frame = self.ws.recv()
            if isinstance(frame, bytes):
                continue
            if frame == "2":
                self.ws.send("3")
                continue
            if wanted(frame):
                return frame
        raise AssertionError(f"no wanted frame within {limit} frames")

    def flood(self, frame: str, count: int) -> int:
        """Send `frame` `count` times as fast as possible; how many went out before the server closed on us."""
        for sent in range(count):
            try:
                self.ws.send(frame)
            except (OSError, websocket.WebSocketException):
                return sent
        return count

    def closed_by_server(self, limit: int = 100_000) -> bool:
        """Read until the server closes the connection (True) or the frame limit is reached (False)."""
        try:
            for _ in range(limit):
                frame = self.ws.recv()
                if frame == "" or frame == "1":  # a close frame, or Engine.IO's own close packet
                    return True
        except websocket.WebSocketTimeoutException:
            return False  # still open, just quiet
        except (OSError, websocket.WebSocketException):
            return True
        return False

    def alive(self) -> bool:
        """A ping of our own is answered: the connection still works."""
        try:
            self.ws.send("40/nowhere,")  # harmless: a namespace that does not exist is refused with 44
            self.recv_until(lambda frame: frame.startswith("44/nowhere"))
            return True
        except (OSError, websocket.WebSocketException, AssertionError):
            return False

    def close(self) -> None:
        self.ws.close()
