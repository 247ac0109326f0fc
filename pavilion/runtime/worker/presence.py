"""Who is here: each stint's open sockets and last sign of life, and which stints have outlived the abandon grace.

This is one process's record; what it writes for others to see is `sightings()` (the presence_table module),
and what others saw reaches it through `observe()` before the sweep judges."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pavilion.runtime.config import Clock
from pavilion.runtime.worker.presence_table import Sighting


@dataclass
class Seen:
    """One stint as presence knows it: its project, its open sockets, and when it last showed life."""

    project_id: int
    last_seen: datetime
    sids: set[str] = field(default_factory=set)
    ready_at: datetime | None = None
    generation: int = 0  # when presence started tracking it (see Presence.mark)


class Presence:
    """Thread-safe, in-process record of sockets and heartbeats per assignment key, read with the server clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, Seen] = {}
        self._by_sid: dict[str, str] = {}
        self._generation = 0
        self._dirty: set[str] = set()  # signs of life here since the last `sightings()`
        self._gone: set[str] = set()  # stints dropped since then, whose rows go

    def mark(self) -> int:
        """A marker taken before reading the database: stints tracked after it are never dropped by `adopt`."""
        with self._lock:
            self._generation += 1
            return self._generation

    def _track(self, project_id: int, key: str) -> Seen:
        seen = self._by_key[key] = Seen(project_id, self.clock(), generation=self._generation)
        return seen

    def _touch(self, project_id: int, key: str) -> Seen:
        seen = self._by_key.get(key)
        if seen is None:
            seen = self._track(project_id, key)
        seen.last_seen = self.clock()
        self._dirty.add(key)
        self._gone.discard(key)
        return seen

    def arrived(self, project_id: int, key: str) -> None:
        """The page was served: the grace starts now, even if no socket ever connects."""
        with self._lock:
            self._touch(project_id, key)

    def connected(self, sid: str, project_id: int, key: str) -> None:
        """A socket of this stint opened (first load or a reload)."""
        with self._lock:
            self._touch(project_id, key).sids.add(sid)
            self._by_sid[sid] = key

    def heartbeat(self, key: str) -> None:
        """The page says it is alive."""
        with self._lock:
            seen = self._by_key.get(key)
            if seen is not None:
                seen.last_seen = self.clock()
                self._dirty.add(key)

    def ready(self, key: str) -> None:
        """The promoted worker's page has shown the task."""
        with self._lock:
            seen = self._by_key.get(key)
            if seen is not None:
                seen.ready_at = self.clock()

    def disconnected(self, sid: str) -> str | None:
        """A socket closed; the grace counts from now. Returns the stint's key, if the socket was known."""
        with self._lock:
            key = self._by_sid.pop(sid, None)
            seen = self._by_key.get(key) if key else None
            if seen is not None and key is not None:
                seen.sids.discard(sid)
                seen.last_seen = self.clock()
                self._dirty.add(key)
            return key

    def adopt(self, present: Iterable[tuple[int, str]], mark: int) -> None:
        """Match the stints the database held as present when read after `mark`: start the grace of unknown ones,
        drop departed ones (unless a socket is still open, or they were tracked after the read began).

        This is what makes presence survive a server restart: every present stint gets a fresh grace."""
        by_key = {key: project_id for project_id, key in present}
        with self._lock:
            gone = [k for k, s in self._by_key.items() if k not in by_key and not s.sids and s.generation < mark]
            for key in gone:
                self._drop(key)
            for key, project_id in by_key.items():
                if key not in self._by_key:
                    self._track(project_id, key)

    def observe(self, latest: dict[str, datetime]) -> None:
        """Signs of life other processes recorded (the presence table): each stint's grace counts from the latest."""
        with self._lock:
            for key, seen_at in latest.items():
                seen = self._by_key.get(key)
                if seen is not None and seen_at > seen.last_seen:
                    seen.last_seen = seen_at

    def stale_keys(self, grace_s: float) -> list[str]:
        """Keys `take_stale` would take now, without taking them (to ask the other processes about first)."""
        now = self.clock()
        with self._lock:
            return [
                key
                for key, seen in self._by_key.items()
                if not seen.sids and (now - seen.last_seen).total_seconds() >= grace_s
            ]

    def sightings(self, keys: set[str] | None = None) -> tuple[list[Sighting], list[str]]:
        """What to write for the other processes: a row per stint with an open socket here (alive now) or a sign of
        life since the last call, and the keys dropped since (whose rows go). `keys` limits it to those stints."""
        now = self.clock()
        with self._lock:
            wanted = keys if keys is not None else self._dirty | {k for k, s in self._by_key.items() if s.sids}
            rows = [
                Sighting(key, seen.project_id, now if seen.sids else seen.last_seen, len(seen.sids))
                for key in sorted(wanted)
                if (seen := self._by_key.get(key)) is not None
            ]
            gone = sorted(self._gone & wanted) if keys is not None else sorted(self._gone)
            self._dirty -= wanted
            self._gone -= set(gone)
            return rows, gone

    def unsent(self, rows: list[Sighting], gone: list[str]) -> None:
        """A write of `sightings()` failed: keep them for the next one."""
        with self._lock:
            self._dirty.update(s.key for s in rows if s.key in self._by_key)
            self._gone.update(k for k in gone if k not in self._by_key)

    def take_stale(self, grace_s: float, among: Iterable[str] | None = None) -> list[tuple[int, str]]:
        """Remove and return (project, key) of stints with no socket and no sign of life for `grace_s` seconds;
        with `among`, only of those keys (the ones whose signs of life elsewhere were just read)."""
        now = self.clock()
        with self._lock:
            keys = self._by_key.keys() if among is None else [k for k in among if k in self._by_key]
            stale = [
                (seen.project_id, key)
                for key in list(keys)
                if not (seen := self._by_key[key]).sids and (now - seen.last_seen).total_seconds() >= grace_s
            ]
            for _, key in stale:
                self._drop(key)
            return stale

    def forget(self, key: str) -> None:
        """The stint ended (left, rejected): stop tracking it."""
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        seen = self._by_key.pop(key, None)
        self._dirty.discard(key)
        if seen is not None:
            self._gone.add(key)
            for sid in seen.sids:
                self._by_sid.pop(sid, None)

    def get(self, key: str) -> Seen | None:
        """A copy of what is known of one stint (for tests and diagnostics)."""
        with self._lock:
            seen = self._by_key.get(key)
            if seen is None:
                return None
            return Seen(seen.project_id, seen.last_seen, set(seen.sids), seen.ready_at, seen.generation)
