"""One client's flood never stalls the others (issue 17 item 4): per-socket limits, heartbeats without reads."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np
import pytest
import socketio
from flask import Flask
from sqlalchemy import event

from pavilion.runtime.context import Runtime
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, connect, enter, make_project, received
from .wire import RawSocket

pytestmark = pytest.mark.timeout(120)
NS = "/worker"
FLOOD = 20_000
PROBES = 6  # other workers, each asking for a heartbeat round trip every PROBE_EVERY_S
PROBE_EVERY_S = 0.5  # within the per-socket limit of 2 a second


def statements(runtime: Runtime) -> list[str]:
    """SQL statements run from now on (a live list)."""
    seen: list[str] = []
    event.listen(runtime.db.engine, "before_cursor_execute", lambda *args: seen.append(str(args[2])))
    return seen


def test_a_heartbeat_is_answered_without_a_database_read_and_with_pay_by_the_server_clock(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    socket = connect(app, enter(app, project_id).token)
    received(socket)
    seen = statements(runtime)
    earned = []
    for _ in range(5):
        clock.advance(60)
        assert socket.emit("heartbeat", namespace=NS, callback=True) == {"ok": True}
        earned.append(received(socket, "queue")[-1]["earned_usd"])
    assert seen == []
    assert earned == [0.12, 0.24, 0.36, 0.48, 0.60]  # 7.20 an hour of waiting, by the server clock


def test_the_heartbeat_answer_follows_a_promotion_and_a_stop(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=1, max_active=2, min_waiting=1, max_waiting=2)
    enter(app, project_id)  # the first joiner starts the job
    second = enter(app, project_id)
    socket = connect(app, second.token)
    socket.emit("heartbeat", namespace=NS, callback=True)
    assert received(socket, "queue")[-1]["queue"] == "waiting"
    runtime.service.migrate(project_id, second.key)  # the admin seats them (the refresher tells the page)
    received(socket)
    socket.emit("heartbeat", namespace=NS, callback=True)
    assert received(socket, "queue")[-1]["queue"] == "active"
    runtime.service.stop(project_id)
    received(socket)
    reply = socket.emit("heartbeat", namespace=NS, callback=True)
    assert "has stopped" in reply["error"] and received(socket, "stop") == [{}]


def test_events_over_the_limit_are_dropped_with_one_error_and_abuse_disconnects(
    app: Flask, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    socket = connect(app, enter(app, project_id).token)
    received(socket)
    get_worker_side(app).limiter.clock = lambda: 0.0  # time stands still: the bucket never refills
    replies = [socket.emit("heartbeat", namespace=NS, callback=True) for _ in range(30)]
    assert replies[:9] == [{"ok": True}] * 9  # the burst of 10, of which the namespace connect took one
    assert replies[9:] == [None] * 21  # dropped: no answer at all
    errors = [m["message"] for m in received(socket, "error")]
    assert len(errors) == 1 and errors[0].startswith("too many events")
    with caplog.at_level(logging.WARNING, logger="pavilion.runtime.worker.floodgate"):
        sent = 0
        while socket.is_connected(NS) and sent < 250:
            socket.emit("heartbeat", namespace=NS)
            sent += 1
    assert not socket.is_connected(NS)
    assert sent == 200 - 21  # the 200th drop within the window disconnects
    lines = [r.getMessage() for r in caplog.records if "over its limit" in r.getMessage()]
    assert len(lines) == 1 and "closed" in lines[0]


def _probe(url: str, token: str, stop: threading.Event, rtts: list[float], failures: list[str]) -> Any:
    client = socketio.Client(reconnection=False, request_timeout=10)
    client.connect(url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def run() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                reply = client.call("heartbeat", namespace=NS, timeout=10)
            except Exception as exc:  # noqa: BLE001 - recorded, the test fails on it
                failures.append(f"{type(exc).__name__}: {exc}")
                return
            rtts.append(time.perf_counter() - start)
            if reply != {"ok": True}:
                failures.append(f"heartbeat answered {reply!r}")
            stop.wait(PROBE_EVERY_S)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return client, thread


def test_a_20000_event_burst_is_cut_off_and_every_other_worker_keeps_its_round_trips(
    app: Flask, runtime: Runtime, live_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2, min_waiting=1, max_waiting=PROBES + 2)
    flooder_token = enter(app, project_id).token
    tokens = [enter(app, project_id).token for _ in range(PROBES)]
    stop = threading.Event()
    rtts: list[float] = []
    failures: list[str] = []
    probes = [_probe(live_server, token, stop, rtts, failures) for token in tokens]
    time.sleep(1.0)  # connections warm
    start = len(rtts)
    time.sleep(2.0)
    floor = rtts[start:]
    flooder = RawSocket(live_server, flooder_token)
    with caplog.at_level(logging.WARNING, logger="pavilion.runtime.worker.floodgate"):
        mark = len(rtts)
        sent = flooder.flood('42/worker,["heartbeat"]', FLOOD)
        assert flooder.closed_by_server()
        time.sleep(2.0)  # the others keep probing after the flood
    stop.set()
    during = rtts[mark:]
    for client, thread in probes:
        thread.join(timeout=15)
        assert client.connected, "a worker other than the flooder was disconnected"
        client.disconnect()
    assert failures == []
    assert len(during) >= PROBES
    lines = [r.getMessage() for r in caplog.records if "over its limit" in r.getMessage()]
    assert len(lines) == 1
    # Reported, not asserted (wall clock on a shared machine): the figures of issue 17 item 4.
    print(f"\nflood: {sent} of {FLOOD} frames sent before the server closed the connection; "
          f"others' heartbeat round trip p99 {np.percentile(during, 99) * 1000:.1f} ms "
          f"(floor p99 {np.percentile(floor, 99) * 1000:.1f} ms, {len(during)} round trips during and after)")
