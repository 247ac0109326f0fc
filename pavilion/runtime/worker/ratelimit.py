"""Per-socket event limits: a token bucket per connection, so one client's flood never starves everyone else.

Each socket may send `burst` events at once and `per_s` a second after that. An event over the limit is dropped;
the first drop of a streak is answered with one `error` message, the rest silently. A socket that has had
`abuse_drops` events dropped within `window_s` is persistent abuse: the caller disconnects it (and logs one line).
Limits are per connection, not per worker: a reload starts a fresh bucket, which a legitimate page never needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    """What to do with one event."""

    ADMIT = "admit"
    DROP = "drop"  # over the limit: drop silently
    WARN = "warn"  # over the limit, first of a streak: drop, and tell the client once
    ABUSE = "abuse"  # over the limit once too often: disconnect the socket


@dataclass
class Bucket:
    tokens: float
    at: float
    window_start: float
    dropped: int = 0  # within the current window
    warned: bool = False  # this streak of drops has had its error message
    abusive: bool = False  # ABUSE already returned once


class EventLimiter:
    """Thread-safe token buckets keyed by socket id."""

    def __init__(
        self,
        burst: float = 10,
        per_s: float = 2.0,
        abuse_drops: int = 200,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_s <= 0 or abuse_drops < 1 or window_s <= 0:
            raise ValueError("event limits must be positive (burst >= 1, abuse_drops >= 1)")
        self.burst = float(burst)
        self.per_s = float(per_s)
        self.abuse_drops = abuse_drops
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}

    def admit(self, sid: str) -> Verdict:
        """Take a token for one event of this socket, or say why not."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(sid)
            if bucket is None:
                bucket = self._buckets[sid] = Bucket(self.burst, now, now)
            bucket.tokens = min(self.burst, bucket.tokens + max(0.0, now - bucket.at) * self.per_s)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                bucket.warned = False
                return Verdict.ADMIT
            if now - bucket.window_start > self.window_s:
                bucket.window_start, bucket.dropped = now, 0
            bucket.dropped += 1
            if bucket.dropped >= self.abuse_drops and not bucket.abusive:
                bucket.abusive = True
                return Verdict.ABUSE
            if not bucket.warned:
                bucket.warned = True
                return Verdict.WARN
            return Verdict.DROP

    def dropped(self, sid: str) -> int:
        """Events of this socket dropped in the current window (for logs and tests)."""
        with self._lock:
            bucket = self._buckets.get(sid)
            return bucket.dropped if bucket else 0

    def forget(self, sid: str) -> None:
        """The socket closed."""
        with self._lock:
            self._buckets.pop(sid, None)
