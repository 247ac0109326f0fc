"""A websocket that ends ends its TCP connection too, on `pavilion serve` (gevent, and eventlet while kept).

gevent's pywsgi kept the connection after Engine.IO's websocket handler returned and read the client's next
WebSocket frames as HTTP requests ("Invalid HTTP method: '\\x81...'", answered with a 400 inside the WebSocket
stream); behind nginx the page was never told. Raw sockets here, to see every byte the server sends and whether
the connection ends: after the server's close frame comes the end of the connection, and nothing else.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from collections.abc import Iterator

import pytest

from .conftest import BIN, PYTHON, Server, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
QUIET_S = 10.0  # how long a client waits for the server to end the connection (it ends at once once fixed)


@pytest.fixture(scope="module", params=["gevent", "eventlet"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(f"hangup-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_") and k not in ("PORT", "DATABASE_URL")}
    env.update({"PAVILION_INSTANCE_PATH": str(folder), "PAVILION_ASYNC_MODE": request.param,
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    port = free_port()
    started = Server([PYTHON, "-m", "pavilion.cli", "serve", "--port", str(port)], env, port, folder / "serve.log")
    started.start()
    yield started
    started.stop()


def client_frame(text: str) -> bytes:
    """A masked text frame, as a browser sends it."""
    data, mask = text.encode(), os.urandom(4)
    size = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(data))
    return bytes([0x81]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def server_frames(stream: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each unmasked frame in `stream`; AssertionError if any byte is not part of a frame."""
    frames, at = [], 0
    while at < len(stream):
        assert len(stream) - at >= 2, f"a partial frame at the end: {stream[at:]!r}"
        first, second = stream[at], stream[at + 1]
        assert first & 0x70 == 0 and second & 0x80 == 0, f"not a server WebSocket frame: {stream[at:at + 40]!r}"
        size, at = second & 0x7F, at + 2
        if size == 126:
            size, at = struct.unpack("!H", stream[at:at + 2])[0], at + 2
        elif size == 127:
            size, at = struct.unpack("!Q", stream[at:at + 8])[0], at + 8
        assert at + size <= len(stream), f"a frame longer than what came: {stream[at - 2:at + 40]!r}"
        frames.append((first & 0x0F, stream[at:at + size]))
        at += size
    return frames


def open_websocket(port: int) -> tuple[socket.socket, bytes]:
    """An Engine.IO websocket connected to the default namespace; (socket, bytes received after the 101)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=QUIET_S)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"closed during the handshake: {received!r}"
        received += chunk
    head, rest = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(client_frame("40"))
    return sock, rest


def until_the_end(sock: socket.socket, received: bytes) -> tuple[bytes, bool]:
    """Everything the server sends from now on, and whether it ended the connection (False: still open, quiet)."""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return received, False
    except ConnectionResetError:
        pass
    return received, True


def _ended_cleanly(server: Server, sock: socket.socket, received: bytes) -> None:
    stream, ended = until_the_end(sock, received)
    sock.close()
    frames = server_frames(stream)
    assert frames and frames[-1][0] == 0x8, f"the last frame is not a close frame: {frames[-3:]}"
    assert ended, f"the server sent its close frame but kept the connection open for {QUIET_S} s"
    assert "Invalid HTTP method" not in server.output() and "Expected GET method" not in server.output()


def test_a_connection_the_flood_gate_closes_ends_with_a_close_frame(server: Server) -> None:
    sock, received = open_websocket(server.port)
    sock.sendall(b"".join(client_frame('42["heartbeat"]') for _ in range(400)))  # far over the socket's limit
    _ended_cleanly(server, sock, received)
    assert "events over its limit" in server.output()


def test_an_engine_io_close_from_the_client_ends_the_connection(server: Server) -> None:
    """The client said goodbye at the Engine.IO level and waits: the server closes the websocket and the TCP."""
    sock, received = open_websocket(server.port)
    sock.sendall(client_frame("1"))
    _ended_cleanly(server, sock, received)


def test_plain_http_on_the_same_server_still_keeps_its_connection(server: Server) -> None:
    """Only websockets are hung up: an ordinary request on a keep-alive connection is followed by another."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=QUIET_S) as sock:
        request = f"GET /admin/login HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        for _ in range(2):
            sock.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                assert chunk, "the server closed a keep-alive connection"
                head += chunk
            assert head.startswith(b"HTTP/1.1 200"), head[:80]
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if
                              line.lower().startswith(b"content-length")))
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += sock.recv(65536)
