"""The driver's own record of what each simulated worker did, to hold against the server's log and ledger."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class WorkerOutcome:
    """What one simulated worker did and was told (times in seconds on the driver's clock since launch)."""

    index: int
    page: str = ""  # joined | rejected | lost (no open slot) | unanswered (the server died mid-load) | error
    page_detail: str = ""  # why a page was lost or failed
    promoted_s: float | None = None
    left: str = ""  # submitted | returned | abandoned (as the driver made them leave), or '' if never joined
    left_by: str = ""  # self (their own draw) | stop (the session ended) | platform (told `left`/`rejected`)
    reconnects: int = 0  # socket connects after the first
    finished: bool = False  # the worker's thread has ended
    stage: str = "arriving"  # where the worker is: arriving | waiting | active | leaving | done
    errors: list[str] = field(default_factory=list)
    timer_late_s: list[float] = field(default_factory=list)  # each heartbeat: how late the driver sent it
    round_trips_s: list[float] = field(default_factory=list)  # each heartbeat: until its `queue` answer came


class Record:
    """Thread-safe collection of outcomes, one per planned worker who tried to join."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: dict[int, WorkerOutcome] = {}

    def add(self, outcome: WorkerOutcome) -> None:
        with self._lock:
            self.outcomes[outcome.index] = outcome

    def tally(self) -> dict[str, int]:
        """Counts to hold against the server: pages, departures by kind, reconnects, errors."""
        with self._lock:
            items = list(self.outcomes.values())
        pages = Counter(o.page for o in items)
        left = Counter(o.left for o in items if o.left)
        return {
            "tried": len(items),
            "joined": pages["joined"],
            "rejected": pages["rejected"],
            "lost": pages["lost"],
            "page_errors": pages["error"],
            "unanswered": pages["unanswered"],
            "submitted": left["submitted"],
            "returned": left["returned"],
            "abandoned": left["abandoned"],
            "reconnects": sum(o.reconnects for o in items),
            "errors": sum(len(o.errors) for o in items),
            "unfinished": sum(1 for o in items if not o.finished),
        }

    def timings(self) -> tuple[list[float], list[float]]:
        """Every heartbeat's timer lateness and round trip (seconds), over all workers."""
        with self._lock:
            items = list(self.outcomes.values())
        return [t for o in items for t in o.timer_late_s], [t for o in items for t in o.round_trips_s]

    def lost_reasons(self) -> Counter[str]:
        with self._lock:
            return Counter(o.page_detail for o in self.outcomes.values() if o.page == "lost")

    def errors(self, limit: int = 5) -> list[str]:
        with self._lock:
            return [e for o in self.outcomes.values() for e in o.errors][:limit]
