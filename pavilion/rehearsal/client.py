"""One simulated worker as a real client: the task page over HTTP, then the /worker socket, as worker.js does it."""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from pavilion.rehearsal.doors import LoadedPage
from pavilion.rehearsal.plan import PlannedWorker
from pavilion.rehearsal.record import Record, WorkerOutcome

NAMESPACE = "/worker"
LEAVE_RETRY_S = 0.2  # a leave that got no answer (the server is restarting) is tried again this often ...
LEAVE_PATIENCE_S = 30.0
CONNECT_PATIENCE_S = 30.0  # ... for this long, as a person clicks "submit" again
NAMESPACE_TRIES = 40
ALREADY_LEFT = re.compile(r"already left this session \((\w+)\)")
SERVER_EVENTS = ("queue", "promoted", "stop", "rejected", "left", "error")

logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
logging.getLogger("engineio.client").setLevel(logging.CRITICAL)


class Door(Protocol):
    """How a worker reaches the task on one platform, and how they return it there."""

    def open(self, index: int) -> LoadedPage:
        """Load the task link: the live page's token, a refusal, or no open place."""
        ...

    def give_back(self, index: int, worker: SimWorker) -> bool:
        """Return the task through the platform (True), or False to return with `leave returned` on the socket."""
        ...

    def submitted(self, index: int) -> None:
        """After the server accepted `leave submitted`: what the page does next on the platform (its form)."""
        ...


class SimWorker:
    """Runs one planned worker to the end in its own thread; what happened goes into the driver's record."""

    def __init__(self, planned: PlannedWorker, door: Door, server_url: str, since_launch: Callable[[], float],
                 record: Record, heartbeat_s: float) -> None:
        self.planned = planned
        self.door = door
        self.server_url = server_url
        self.since_launch = since_launch
        self.record = record
        self.heartbeat_s = heartbeat_s
        self.outcome = WorkerOutcome(planned.index)
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.socket: Any = None
        self._connects = 0
        self.refusal = ""
        self.stopped_first = False

    # ---- the socket ------------------------------------------------------------------------------------------
    def _on(self, name: str) -> Callable[..., None]:
        def handler(*args: Any) -> None:
            self.inbox.put((name, args[0] if args else None))

        return handler

    def _connected(self) -> None:
        self._connects += 1
        self.outcome.reconnects = max(0, self._connects - 1)

    def _refused(self, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("message"):  # the server said no (not: the server is away)
            self.refusal = str(data["message"])
            self.outcome.errors.append(f"socket refused: {self.refusal}")

    def connect(self, token: str) -> None:
        import socketio

        client = socketio.Client(reconnection=True, reconnection_delay=0.05, reconnection_delay_max=0.25,
                                 randomization_factor=0.2, request_timeout=10)
        for name in SERVER_EVENTS:
            client.on(name, self._on(name), namespace=NAMESPACE)
        client.on("connect", self._connected, namespace=NAMESPACE)
        client.on("connect_error", self._refused, namespace=NAMESPACE)
        self.socket = client
        # As the browser's client does, a first connect that finds no server is tried again (a restart in
        # progress); a refusal by the server is final.
        deadline = time.monotonic() + CONNECT_PATIENCE_S
        while True:
            try:
                client.connect(self.server_url, namespaces=[NAMESPACE], auth={"token": token},
                               transports=["websocket"], wait_timeout=10)
                return
            except socketio.exceptions.ConnectionError:
                if self.refusal or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def emit(self, event: str, payload: Any = None) -> None:
        """Send one event; a namespace still being joined (a message right at connect) is waited for briefly."""
        from socketio.exceptions import BadNamespaceError

        args = () if payload is None else (payload,)
        for _ in range(NAMESPACE_TRIES):
            if self.socket is None or not self.socket.connected:
                return
            try:
                self.socket.emit(event, *args, namespace=NAMESPACE)
                return
            except BadNamespaceError:
                time.sleep(0.05)
            except Exception as exc:  # noqa: BLE001 - a send lost in a reconnect; the next heartbeat follows
                self.outcome.errors.append(f"{event}: {type(exc).__name__}")
                return

    def leave(self, how: str) -> bool:
        """`leave {"how"}` until the server answers (a reply refusing it is an answer too); True when accepted."""
        deadline = time.monotonic() + LEAVE_PATIENCE_S
        while time.monotonic() < deadline:
            if self.socket is not None and self.socket.connected:
                try:
                    reply = self.socket.call("leave", {"how": how}, namespace=NAMESPACE, timeout=5)
                except Exception:  # noqa: BLE001 - no answer: the server went away mid-call
                    reply = None
                if isinstance(reply, dict):
                    error = str(reply.get("error"))
                    if reply.get("ok") or f"already left this session ({how})" in error:
                        return True  # accepted now, or an earlier try got through and its answer was lost
                    if how != "submitted" and "has stopped" in error:
                        self.stopped_first = True  # the stop crossed this leave: the page submits instead
                        return False
                    gone = ALREADY_LEFT.search(error)
                    if gone:  # the platform ended the stint first (MTurk's or Prolific's time limit)
                        self.outcome.left, self.outcome.left_by = gone.group(1), "platform"
                        return False
                    self.outcome.errors.append(f"leave {how} refused: {error}")
                    return False
            time.sleep(LEAVE_RETRY_S)
        self.outcome.errors.append(f"leave {how}: no answer in {LEAVE_PATIENCE_S:g} s")
        return False

    def hang_up(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):  # already closed
                self.socket.disconnect()

    # ---- the worker's life -----------------------------------------------------------------------------------
    def run(self) -> None:
        self.record.add(self.outcome)  # counted from the start: a worker still busy at the end is seen
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - one worker's failure is recorded, never fatal to the run
            self.outcome.errors.append(f"{type(exc).__name__}: {exc}")
            self.hang_up()
        finally:
            self.outcome.stage, self.outcome.finished = "done", True

    def _run(self) -> None:
        page = self.door.open(self.planned.index)
        self.outcome.page, self.outcome.page_detail = page.kind, page.detail
        if page.kind != "joined":
            if page.kind == "error":
                self.outcome.errors.append(page.detail)
            return
        self.outcome.stage = "waiting"
        self.connect(page.token)
        self._live(self.since_launch() + self.planned.patience_s)

    def _live(self, deadline: float) -> None:
        exit_kind, next_beat = self.planned.waiting_exit, self.since_launch() + self.heartbeat_s
        beat_sent: float | None = None
        while True:
            now = self.since_launch()
            if now >= deadline:
                self._depart(exit_kind, "self")
                return
            if now >= next_beat:
                self.outcome.timer_late_s.append(now - next_beat)  # how late this process ran the worker's timer
                beat_sent = time.perf_counter()
                self.emit("heartbeat")
                next_beat = max(next_beat + self.heartbeat_s, now)
                continue
            try:
                name, payload = self.inbox.get(timeout=min(deadline, next_beat) - now)
            except queue.Empty:
                continue
            if name == "queue" and beat_sent is not None:  # the heartbeat's answer (the first `queue` after it)
                self.outcome.round_trips_s.append(time.perf_counter() - beat_sent)
                beat_sent = None
            elif name == "promoted":
                if self.outcome.promoted_s is None:
                    self.outcome.promoted_s = self.since_launch()
                    self.outcome.stage = "active"
                    deadline, exit_kind = self.outcome.promoted_s + self.planned.duration_s, self.planned.active_exit
                self.emit("ready")  # the page shows the task and says so, after every `promoted` (reloads too)
            elif name == "stop":
                self._depart("submitted", "stop")  # the page records the submission, then posts the form
                return
            elif name == "left":  # the platform ended the stint (a time limit): the page says why and stops
                self.outcome.left_by = "platform"
                self.outcome.left = str(payload.get("how", "")) if isinstance(payload, dict) else ""
                self.hang_up()
                return
            elif name == "rejected":
                self.outcome.left_by = "platform"
                self.outcome.errors.append(f"{name}: {payload}")
                self.hang_up()
                return

    def _depart(self, how: str, by: str) -> None:
        self.outcome.left_by, self.outcome.stage = by, f"leaving ({how}, {by})"
        if how == "abandoned":
            self.hang_up()  # the tab is closed: no word, no heartbeat, no reconnect
            self.outcome.left = how
            return
        if how == "returned" and self.door.give_back(self.planned.index, self):
            self.outcome.left = how
            self.hang_up()
            return
        if self.leave(how):
            self.outcome.left = how
        elif self.stopped_first and self.leave("submitted"):
            how, self.outcome.left, self.outcome.left_by = "submitted", "submitted", "stop"
        if self.outcome.left == "submitted":
            self.door.submitted(self.planned.index)
        self.hang_up()


def start(worker: SimWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, name=f"sim-worker-{worker.planned.index}", daemon=True)
    thread.start()
    return thread
