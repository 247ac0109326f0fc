"""The emulator as one object: the state machine, its lock, notification delivery and fault injection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from pavilion.emulators.mturk.clock import Clock, ManualClock, SystemClock
from pavilion.emulators.mturk.errors import MTurkError
from pavilion.emulators.mturk.notifications import Chaos, Dispatcher, Sink, TransportSink
from pavilion.emulators.mturk.state import MTurkModel

T = TypeVar("T")
FAULT_KINDS = ("ServiceFault", "Throttling", "LostResponse")


class Emulator:
    """Thread-safe front of the MTurk model; every change is followed by delivery of the events it produced."""

    def __init__(self, clock: Clock | None = None, *, seed: int = 0, balance: Decimal = Decimal("10000.00"),
                 sink: Sink | None = None, chaos: Chaos | None = None, sqs_endpoint_url: str | None = None,
                 disposed_visible: bool = True) -> None:
        self.clock = clock or SystemClock()
        self.model = MTurkModel(self.clock, seed=seed, balance=balance, disposed_visible=disposed_visible)
        self.dispatcher = Dispatcher(sink or TransportSink(sqs_endpoint_url), seed=seed + 1, chaos=chaos,
                                     customer_id=self.model.customer_id)
        self.lock = threading.RLock()
        self.faults: dict[str, list[str]] = {}

    def call(self, op: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One Requester API call, with any injected fault for that operation applied."""
        fault = self._next_fault(op)
        if fault == "ServiceFault":
            raise MTurkError("", "Service is unavailable.", kind="ServiceFault", status=500)
        if fault == "Throttling":
            raise MTurkError("", "Rate exceeded", kind="ThrottlingException", status=400)
        result = self.run(lambda m: m.call(op, params))
        if fault == "LostResponse":  # the work is done but the caller never hears so: only a token saves it
            raise MTurkError("", "Service is unavailable.", kind="ServiceFault", status=500)
        return result

    def run(self, action: Callable[[MTurkModel], T]) -> T:
        """Run `action` on the model under the lock, then deliver the events it produced (also on error)."""
        with self.lock:
            try:
                return action(self.model)
            finally:
                self.dispatcher.deliver(self.model.drain())

    def tick(self) -> None:
        self.run(lambda m: m.tick())

    def advance(self, seconds: float) -> float:
        """Move a manual clock forward and apply what that time does."""
        if not isinstance(self.clock, ManualClock):
            raise ValueError("this emulator runs on the system clock; start it with a manual clock to advance time")
        now = self.clock.advance(seconds)
        self.tick()
        return now

    def inject(self, op: str, kind: str, count: int = 1) -> None:
        """Make the next `count` calls of `op` fail in the given way."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        if op not in self.model.operations:
            raise ValueError(f"unknown operation {op!r}")
        with self.lock:
            self.faults.setdefault(op, []).extend([kind] * count)

    def set_chaos(self, chaos: Chaos) -> None:
        with self.lock:
            self.dispatcher.chaos = chaos.validate()

    def _next_fault(self, op: str) -> str | None:
        with self.lock:
            queue = self.faults.get(op)
            return queue.pop(0) if queue else None
