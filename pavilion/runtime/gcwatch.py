"""Log the garbage collector's long pauses: under gevent one full pass stalls every connected socket at once."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class PauseWatch:
    """A `gc.callbacks` entry: times each collection and logs one line for those of at least `threshold_ms`."""

    threshold_ms: float
    clock: Any = time.perf_counter
    longest_ms: float = 0.0
    long_pauses: int = 0
    _started: float = field(default=0.0, repr=False)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self.clock()
            return
        paused_ms = (self.clock() - self._started) * 1000.0
        self.longest_ms = max(self.longest_ms, paused_ms)
        if paused_ms >= self.threshold_ms:
            self.long_pauses += 1
            log.warning("garbage collection (generation %s) paused the server for %.0f ms (%s objects freed)",
                        info.get("generation"), paused_ms, info.get("collected"))


def thresholds(text: str) -> tuple[int, int, int]:
    """`PAVILION_GC_THRESHOLDS` ("10000,20,100") as gc.set_threshold's three numbers, or an InputError naming it."""
    from pavilion.errors import InputError

    try:
        numbers = tuple(int(part) for part in text.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != 3 or min(numbers) < 1:
        raise InputError(f"PAVILION_GC_THRESHOLDS must be three positive whole numbers like 10000,20,100, got {text!r}")
    return numbers[0], numbers[1], numbers[2]


def install(threshold_ms: float) -> PauseWatch | None:
    """Watch every collection of this process (0: do not watch); the watch, to read its figures."""
    if threshold_ms <= 0:
        return None
    watch = PauseWatch(threshold_ms)
    gc.callbacks.append(watch)
    return watch
