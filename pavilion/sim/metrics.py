"""The metrics of DESIGN.md section 5, accumulated in constant memory while a run goes (after warmup_s)."""

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


@dataclass(frozen=True)
class PayRates:
    """What a submitting worker is paid, and the platform's fee on it."""

    reward: float
    waiting_wage_per_hour: float
    active_wage_per_hour: float
    platform_fee: float


class MetricsRecorder:
    """Time integrals of both queues, counts, waits, replacement latencies and payments; NaN when empty.

    Time-weighted metrics cover [warmup_s, end). Counts, waits and payments count what happens at or after
    warmup_s; a wait or a payment is counted whole at the instant it ends. `time_to_start_s` is measured from
    launch whatever the warmup. Replacements still pending when the run ends are not counted (censored).
    """

    def __init__(self, warmup_s: float, min_active: int, max_active: int, pay: PayRates) -> None:
        self.warmup_s = warmup_s
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
        self.counts = dict.fromkeys(("arrivals", "rejected", "hires", "submitted", "returned", "abandoned"), 0)
        self.wait_sum = 0.0
        self.wait_n = 0
        self.payments = 0.0
        # Pending replacements: (seen at, active size to get back to), oldest first.
        self.pending: list[tuple[float, int]] = []
        self.latency_sum = 0.0
        self.latencies = LogHistogram()

    def queues(self, now: float, active: int, waiting: int) -> None:
        """The queue lengths from `now` on (called after every policy step)."""
        if active != self.active or waiting != self.waiting:
            self._flush(now)
            self.active, self.waiting = active, waiting
            if self.pending and active > 0:
                self._resolve(now, active)

    def _flush(self, now: float) -> None:
        start = self.last_s if self.last_s > self.warmup_s else self.warmup_s
        if now > start:
            dt = now - start
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

    def started(self, now: float) -> None:
        """The job started (first call only counts)."""
        if math.isnan(self.started_at):
            self.started_at = now

    def count(self, now: float, name: str, n: int = 1) -> None:
        if now >= self.warmup_s:
            self.counts[name] += n

    def waited(self, now: float, seconds: float) -> None:
        """A worker left the waiting queue (promoted or departed) after `seconds` in it."""
        if now >= self.warmup_s:
            self.wait_sum += seconds
            self.wait_n += 1

    def active_departure(self, now: float, size_before: int) -> None:
        """The policy saw an active worker leave; the active queue held `size_before` just before."""
        if self.active >= size_before:
            # Already back (a promotion in the same step): a zero latency.
            if now >= self.warmup_s:
                self.latencies.add(0.0)
            return
        self.pending.append((now, size_before))

    def paid(self, now: float, waited_s: float, active_s: float) -> None:
        """A worker submitted: reward plus wages for their time waiting and active."""
        if now >= self.warmup_s:
            p = self.pay
            self.payments += p.reward + (p.waiting_wage_per_hour * waited_s + p.active_wage_per_hour * active_s) / 3600

    def finish(self, end: float) -> dict[str, float]:
        """Every metric of METRICS, for the window [warmup_s, end)."""
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
