"""The stints of this process's sockets as last read, so a heartbeat is answered without a database read.

An entry is the stint read at connect (or at the last reload), its place updated from every `queue` message the
refresher sends (pavilion.runtime.refresh), and earned pay recomputed from the server clock at each answer. It is
read again from the database once it is `max_age_s` old (what changed on another process shows within that), when
the worker changes queue (a promotion sets the times pay is counted from), when the project's status changes (a
stop), and after the worker's own leave.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pavilion.runtime.pay import earned_so_far
from pavilion.runtime.snapshots import queue_payload
from pavilion.runtime.worker.stint import Stint

PLACE_FIELDS = ("queue", "position", "waiting", "active")


class StintCache:
    """Thread-safe: stint by assignment key, with the monotonic time it was read."""

    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self.clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, tuple[Stint, float]] = {}

    def put(self, stint: Stint) -> None:
        """A stint just read from the database."""
        with self._lock:
            self._by_key[stint.key] = (stint, self.clock())

    def get(self, key: str) -> Stint | None:
        """The cached stint, if read within `max_age_s`."""
        with self._lock:
            entry = self._by_key.get(key)
            if entry is None or self.clock() - entry[1] > self.max_age_s:
                return None
            return entry[0]

    def told(self, key: str, payload: dict[str, Any]) -> None:
        """The refresher sent this `queue` message: the worker's place now; a queue change means a reload."""
        with self._lock:
            entry = self._by_key.get(key)
            if entry is None:
                return
            stint, read_at = entry
            if payload.get("queue") != stint.message.get("queue"):
                del self._by_key[key]
                return
            message = {**stint.message, **{f: payload[f] for f in PLACE_FIELDS if f in payload}}
            self._by_key[key] = (dataclasses.replace(stint, message=message), read_at)

    def project_status(self, project_id: int, status: str) -> None:
        """The refresher read the project: its stints cached with another status are read again (e.g. stopped)."""
        with self._lock:
            ours = [(key, stint) for key, (stint, _) in self._by_key.items() if stint.project_id == project_id]
            stale = [key for key, stint in ours if stint.project_status != status]
            for key in stale:
                del self._by_key[key]

    def forget(self, key: str) -> None:
        with self._lock:
            self._by_key.pop(key, None)


def message_now(stint: Stint, now: datetime) -> dict[str, Any]:
    """The stint's `queue` message with pay earned by `now` on the server clock."""
    message = stint.message
    if stint.joined_at is None:
        return dict(message)
    earned = earned_so_far(stint.pay, stint.joined_at, stint.promoted_at, stint.left_at, now)
    place = (message["queue"], message["position"], message["waiting"], message["active"], message["start_at"])
    return queue_payload(place, earned)
