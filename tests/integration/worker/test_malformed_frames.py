"""Malformed Socket.IO / Engine.IO frames are refused with one log line, never a traceback (issue 17 item 5).

Each frame comes from a raw websocket (or a long-polling POST) of a connected worker; the connection survives
where the protocol allows, and the server logs exactly one `refused` line and no exception."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest
from flask import Flask

from pavilion.runtime.context import Runtime

from .conftest import enter, make_project
from .wire import RawSocket

pytestmark = pytest.mark.timeout(60)
DEEP = "[" * 1000 + "]" * 1000
# (id, frame): each of these logged a traceback before (16 of the 36 frames probed; the other 20 were quiet).
FRAMES: list[tuple[str, str | bytes]] = [
    ("bad-json", "42/worker,not json"),
    ("truncated-json", '42/worker,{"a":'),
    ("binary-junk", b"\x00\xff\xfe\x01junk"),
    ("unknown-packet-type", "49/worker,[]"),
    ("event-without-name", "42/worker,[]"),
    ("event-as-object", '42/worker,{"x":1}'),
    ("client-connect-error", "44/worker,{}"),
    ("bad-ack-id", '42/worker,1x["heartbeat"]'),
    ("bare-message", "4"),
    ("empty-frame", ""),
    ("deep-nesting", '42/worker,["leave",' + DEEP + "]"),
    ("deep-event-name", "42/worker,[" + DEEP + "]"),
    ("message-without-type", "4x"),
    ("unrequested-binary", b"\x04abc"),
    ("bad-attachment-count", '45-1-/worker,["x"]'),
    ("connect-bad-json", "40/worker,{bad"),
]
CLOSES = {"empty-frame"}  # an empty frame cannot be decoded at all: the connection is closed (one line)


def _settled(caplog: pytest.LogCaptureFixture, wanted: int, timeout_s: float = 5.0) -> list[logging.LogRecord]:
    """Records once `wanted` refusal lines have arrived (messages are handled on their own threads)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and sum("refused" in r.getMessage() for r in caplog.records) < wanted:
        time.sleep(0.05)
    time.sleep(0.2)  # anything else the frame caused
    return list(caplog.records)


@pytest.mark.parametrize(("name", "frame"), FRAMES, ids=[i for i, _ in FRAMES])
def test_a_malformed_frame_is_one_log_line_and_no_traceback(
    app: Flask, runtime: Runtime, live_server: str, caplog: pytest.LogCaptureFixture, name: str, frame: str | bytes
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    socket = RawSocket(live_server, enter(app, project_id).token)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        if isinstance(frame, bytes):
            socket.send_binary(frame)
        else:
            socket.send_text(frame)
        records = _settled(caplog, 1)
        if name not in CLOSES:
            assert socket.alive()  # the connection itself is fine
    socket.close()
    assert [r for r in records if r.exc_info] == []
    refusals = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert len(refusals) == 1 and "refused" in refusals[0], refusals


@pytest.mark.parametrize("body", [b"\xff\xfe\x00", b"4zz\x1e4\x1e", b"\x1e\x1e"], ids=["non-utf8", "junk", "empty"])
def test_a_malformed_long_polling_body_is_one_log_line_and_no_traceback(
    live_server: str, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    base = live_server + "/socket.io/?EIO=4&transport=polling"
    with httpx.Client(timeout=10) as http:
        sid = json.loads(http.get(base).text[1:])["sid"]
        with caplog.at_level(logging.INFO):
            assert http.post(f"{base}&sid={sid}", content=body).status_code == 200
            records = _settled(caplog, 1)
    assert [r for r in records if r.exc_info] == []
    refusals = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert len(refusals) == 1 and refusals[0].startswith("malformed Engine.IO polling payload refused"), refusals
