"""The emulator as one object: state, its lock, webhook delivery, the API token, fees, faults and the journal."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pavilion.emulators.prolific.clock import Clock, SystemClock
from pavilion.emulators.prolific.delivery import Deliverer
from pavilion.emulators.prolific.state import EmulatorState

# Emulator defaults, not Prolific's published prices: Prolific computes its own fees and VAT, and the adapter
# records whatever the set-up call returns.
DEFAULT_FEE_RATE = Decimal("0.3333")
DEFAULT_VAT_RATE = Decimal("0")


@dataclass
class Fault:
    """An injected failure: the next `times` requests matching method and path prefix get `status`.

    With `after=True` the request is carried out first and only its answer is lost, as when a response times out.
    """

    method: str
    path: str
    status: int
    times: int = 1
    after: bool = False
    shape: str = "error"  # or "message", Prolific's older error body


@dataclass
class ProlificEmulator:
    """Construct with a token; `clock` defaults to the system clock, `seed` fixes every generated id."""

    token: str
    clock: Clock = field(default_factory=SystemClock)
    seed: int = 0
    fee_rate: Decimal = DEFAULT_FEE_RATE
    vat_rate: Decimal = DEFAULT_VAT_RATE
    allow_http_hooks: bool = True  # Prolific wants public https targets; loopback tests cannot have them
    state: EmulatorState = field(init=False)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)
    deliverer: Deliverer = field(init=False)
    journal: list[dict[str, Any]] = field(init=False, default_factory=list)
    faults: list[Fault] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the emulator needs an API token")
        self.state = EmulatorState(self.clock, seed=self.seed)
        self.deliverer = Deliverer(self.state, self.lock, seed=self.seed)

    def take_fault(self, method: str, path: str, after: bool) -> Fault | None:
        """The first matching fault still armed, used up by one."""
        with self.lock:
            for fault in self.faults:
                if fault.after == after and fault.times > 0 and fault.method == method and path.startswith(fault.path):
                    fault.times -= 1
                    return fault
        return None
