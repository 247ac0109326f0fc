"""The metrics of DESIGN.md section 5, defined once over the event stream (section 9) and kept in constant memory.

The simulator feeds `MetricsRecorder` each event-log row as it happens (without storing the log) and
`metrics_from_events` feeds it the rows of a stored log, simulated or live: one definition, so the two agree
exactly on the same run. Nothing here looks at the policy's state or the workload model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pavilion.sim.quantile import LogHistogram

METRICS: tuple[str, ...] = (
    "availability",
    "full_ratio",
    "mean_active",
    "mean_waiting",
    "time_to_start_s",
    "replacement_latency_mean_s",
    "replacement_latency_p95_s",
    "mean_wait_s",
    "arrivals",
    "rejected",
    "hires",
    "submitted",
    "returned",
    "abandoned",
    "hire_rate_per_hour",
    "cost_usd",
    "cost_per_available_hour",
)
COUNTS = ("arrivals", "rejected", "hires", "submitted", "returned", "abandoned")


@dataclass(frozen=True)
class PayRates:
    """What a submitting worker is paid, and the platform's fee on it."""

    reward: float
    waiting_wage_per_hour: float
    active_wage_per_hour: float
    platform_fee: float


class MetricsRecorder:
    """Queue lengths, counts, waits, replacement latencies and payments from the event stream; NaN when empty.

    Queue lengths follow the rows: `joined` into a queue, `promoted`, a departure from the queue the worker is in
    (ghosts count until their departure row). Time-weighted metrics cover [warmup_s, end_s). Counts, waits and
    payments count what happens at or after warmup_s; a wait or a payment is counted whole at the instant it ends.
    `time_to_start_s` (from launch whatever the warmup) is when the active queue first holds min_active workers,
    the start of both policies. Replacements still pending at the end are censored (not counted). A departure or
    promotion of a worker not present, or a join of one present, is ignored (the policy ignores them too).
    """

    def __init__(self, warmup_s: float, min_active: int, max_active: int, pay: PayRates,
                 end_s: float = math.inf) -> None:
        self.warmup_s = warmup_s
        self.end_s = end_s
        self.min_active = min_active
        self.max_active = max_active
        self.pay = pay
        self.active = 0
        self.waiting = 0
        self.last_s = 0.0
        self.area_active = 0.0
        self.area_waiting = 0.0
        self.available_s = 0.0
        self.full_s = 0.0
        self.started_at = math.nan
        self.counts = dict.fromkeys(COUNTS, 0)
        self.wait_sum = 0.0
        self.wait_n = 0
        self.payments = 0.0
        # Present workers: id -> [joined at, promoted at (NaN while waiting)].
        self.present: dict[str, list[float]] = {}
        # Pending replacements: (seen at, active size to get back to), oldest first.
        self.pending: list[tuple[float, int]] = []
        self.latency_sum = 0.0
        self.latencies = LogHistogram()

    # -- the rows ---------------------------------------------------------------------------------------------
    def hired(self, now: float, count: int) -> None:
        if now >= self.warmup_s:
            self.counts["hires"] += count

    def joined(self, now: float, worker: str, queue: str) -> None:
        """A worker took a slot; `queue` is where the policy put them ('' when rejected)."""
        if worker in self.present:
            return  # a repeated join the policy ignored
        if now >= self.warmup_s:
            self.counts["arrivals"] += 1
        if queue == "waiting":
            self.present[worker] = [now, math.nan]
            self._lengths(now, self.active, self.waiting + 1)
        elif queue == "active":
            self.present[worker] = [now, now]
            self._lengths(now, self.active + 1, self.waiting)

    def rejected(self, now: float) -> None:
        if now >= self.warmup_s:
            self.counts["rejected"] += 1

    def promoted(self, now: float, worker: str) -> None:
        record = self.present.get(worker)
        if record is None or record[1] == record[1]:  # unknown, or already active (promoted_at is not NaN)
            return
        record[1] = now
        self._waited(now, now - record[0])
        self._lengths(now, self.active + 1, self.waiting - 1)

    def left(self, now: float, worker: str, how: str) -> None:
        """A departure the policy saw: how is submitted, returned or abandoned."""
        record = self.present.pop(worker, None)
        if record is None:
            return
        joined_at, promoted_at = record
        counted = now >= self.warmup_s
        if counted:
            self.counts[how] += 1
        if promoted_at != promoted_at:  # NaN: left the waiting queue
            self._waited(now, now - joined_at)
            self._lengths(now, self.active, self.waiting - 1)
            promoted_at = now
        else:
            size_before = self.active
            self._lengths(now, size_before - 1, self.waiting)
            self.pending.append((now, size_before))
        if how == "submitted" and counted:
            p = self.pay
            self.payments += p.reward + (p.waiting_wage_per_hour * (promoted_at - joined_at)
                                         + p.active_wage_per_hour * (now - promoted_at)) / 3600

    # -- accumulation -----------------------------------------------------------------------------------------
    def _lengths(self, now: float, active: int, waiting: int) -> None:
        self._flush(now)
        grew = active > self.active
        self.active, self.waiting = active, waiting
        if grew:
            if active >= self.min_active and self.started_at != self.started_at:
                self.started_at = now
            if self.pending:
                self._resolve(now, active)

    def _flush(self, now: float) -> None:
        start = self.last_s if self.last_s > self.warmup_s else self.warmup_s
        end = now if now < self.end_s else self.end_s
        if end > start:
            dt = end - start
            self.area_active += self.active * dt
            self.area_waiting += self.waiting * dt
            if self.active >= self.min_active:
                self.available_s += dt
            if self.active >= self.max_active:
                self.full_s += dt
        self.last_s = now

    def _resolve(self, now: float, active: int) -> None:
        still: list[tuple[float, int]] = []
        for seen_at, target in self.pending:
            if active >= target:
                if seen_at >= self.warmup_s:
                    self.latency_sum += now - seen_at
                    self.latencies.add(now - seen_at)
            else:
                still.append((seen_at, target))
        self.pending = still

    def _waited(self, now: float, seconds: float) -> None:
        if now >= self.warmup_s:
            self.wait_sum += seconds
            self.wait_n += 1

    def finish(self, end: float) -> dict[str, float]:
        """Every metric of METRICS, for the window [warmup_s, end)."""
        self.end_s = min(self.end_s, end)
        self._flush(end)
        span = end - self.warmup_s
        cost = self.payments * (1 + self.pay.platform_fee)
        available_h = self.available_s / 3600
        n_latency = self.latencies.count
        out: dict[str, float] = {
            "availability": self.available_s / span,
            "full_ratio": self.full_s / span,
            "mean_active": self.area_active / span,
            "mean_waiting": self.area_waiting / span,
            "time_to_start_s": self.started_at,
            "replacement_latency_mean_s": self.latency_sum / n_latency if n_latency else math.nan,
            "replacement_latency_p95_s": self.latencies.quantile(0.95),
            "mean_wait_s": self.wait_sum / self.wait_n if self.wait_n else math.nan,
            **{name: float(n) for name, n in self.counts.items()},
            "hire_rate_per_hour": self.counts["hires"] / (span / 3600),
            "cost_usd": cost,
            "cost_per_available_hour": cost / available_h if available_h > 0 else math.nan,
        }
        return {name: out[name] for name in METRICS}
