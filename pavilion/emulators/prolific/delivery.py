"""Signed webhook delivery, at least once, with switches that duplicate, reorder, delay or drop deliveries."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.clock import iso
from pavilion.emulators.prolific.hooks import sign
from pavilion.emulators.prolific.state import EmulatorState


@dataclass
class DeliverySwitches:
    """Misbehaviours a receiver must survive; all off by default."""

    duplicate: bool = False  # every delivery is sent twice, with the same X-Event-ID
    reorder: bool = False  # each batch goes out newest first
    drop_rate: float = 0.0  # fraction of deliveries silently never sent (seeded)
    hold: bool = False  # the background thread sends nothing; flush() does
    delay_s: float = 0.0  # emulator-clock seconds before an event is due
    max_attempts: int = 5  # non-2xx answers are retried, with doubling waits from retry_s
    retry_s: float = 0.5


@dataclass
class Delivery:
    event: m.HookEvent
    subscription_id: str
    target_url: str
    body: bytes
    due: float
    attempts: int = 0


class Deliverer:
    """Fans events out to confirmed subscriptions and posts them; HTTP happens outside the state lock."""

    def __init__(self, state: EmulatorState, lock: threading.RLock, seed: int = 0, interval_s: float = 0.05) -> None:
        self.state = state
        self.lock = lock
        self.switches = DeliverySwitches()
        self._rng = np.random.default_rng(seed)
        self._pending: list[Delivery] = []
        self._send_lock = threading.Lock()
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fan_out(self) -> None:
        """Caller holds the lock: turn new events into one delivery per matching subscription."""
        events, self.state.outbox = self.state.outbox, []
        for event in events:
            for sub in self.state.subscriptions.values():
                if sub.confirmed and sub.is_enabled and sub.event_type == event.event_type:
                    body = json.dumps(event.payload).encode()
                    due = event.at + self.switches.delay_s
                    self._pending.append(Delivery(event, sub.id, sub.target_url, body, due))

    def pending(self) -> int:
        with self.lock:
            return len(self._pending)

    def flush(self, everything: bool = False) -> int:
        """Send what is due (or everything held); returns how many requests went out."""
        with self._send_lock:
            with self.lock:
                self.state.tick()
                self.fan_out()
                now = self.state.now()
                batch = [d for d in self._pending if everything or d.due <= now]
                self._pending = [d for d in self._pending if d not in batch]
                batch = self._shape(batch)
            return sum(self._send(d) for d in batch)

    def _shape(self, batch: list[Delivery]) -> list[Delivery]:
        switches = self.switches
        kept = [d for d in batch if d.attempts > 0 or self._rng.random() >= switches.drop_rate]
        for dropped in (d for d in batch if d not in kept):
            self._log(dropped, "DROPPED")
        if switches.reorder:
            kept.reverse()
        if switches.duplicate:
            kept = [d for d in kept for _ in range(2)]
        return kept

    def _send(self, delivery: Delivery) -> int:
        with self.lock:
            secret = self.state.secrets.get(self.state.workspace_id, "")
            stamp = str(int(self.state.now()))
        headers = {
            "Content-Type": "application/json",
            "X-Prolific-Request-Signature": sign(secret, stamp, delivery.body),
            "X-Prolific-Request-Timestamp": stamp,
            "X-Event-ID": delivery.event.id,
            "X-Timestamp": iso(delivery.event.at),
        }
        code: int | None = None  # stays None when there is no answer (the target is down)
        with contextlib.suppress(httpx.HTTPError):
            code = httpx.post(delivery.target_url, content=delivery.body, headers=headers, timeout=5.0).status_code
        ok = code is not None and 200 <= code < 300
        with self.lock:
            delivery.attempts += 1
            self._log(delivery, "SUCCEEDED" if ok else "FAILED", code)
            if not ok and delivery.attempts < self.switches.max_attempts and delivery not in self._pending:
                delivery.due = self.state.now() + self.switches.retry_s * 2 ** (delivery.attempts - 1)
                self._pending.append(delivery)
        return 1

    def _log(self, delivery: Delivery, status: str, code: int | None = None) -> None:
        sub = self.state.subscriptions.get(delivery.subscription_id)
        if sub is not None:
            sub.deliveries.append({**_log_row(delivery, status), "response_status": code})

    # -- background thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="prolific-emulator-hooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            if not self.switches.hold:
                self.flush()
            else:
                with self.lock:
                    self.state.tick()
                    self.fan_out()


def _log_row(delivery: Delivery, status: str) -> dict[str, Any]:
    return {
        "id": delivery.event.id,
        "datetime_created": iso(delivery.event.at),
        "event_type": delivery.event.event_type,
        "resource_id": delivery.event.resource_id,
        "status": status,
        "target_url": delivery.target_url,
    }
