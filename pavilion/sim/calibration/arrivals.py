"""Slot traffic: which open slot each join took, the pooled arrival rate and the hire delay.

Slots are alike, so the log does not say which open slot a joiner took. Whatever the matching, the total open time
is the same, so the pooled rate (joins over the time a slot was open) and an exponential fill time (joins over
open slot-time) are exact; fill.py imputes the matching for other families.

The posting delay is not in the log (a `hire` row is when the policy asked, not when the slots appeared), but it
bounds the joins: nobody can take a slot before it opens. For a constant delay d and pooled arrivals the
likelihood grows with d as long as every join still finds an open slot, so the maximum-likelihood delay is the
largest such d (the interval's upper end); see fit_hire_delay for the estimate and the lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pavilion.sim.calibration.fits import MIN_EVENTS, Estimate
from pavilion.sim.calibration.observations import Durations, JobSlots

LN20 = math.log(20.0)


@dataclass
class SlotSpells:
    """Every slot's spell from opening to being taken (observed) or to the end of recruiting (censored)."""

    fill: Durations = field(default_factory=Durations)
    takes: int = 0
    unmatched: int = 0  # joins that found no open slot under these rules
    open_time_s: float = 0.0  # time with at least one slot open
    slot_time_s: float = 0.0  # open slots integrated over time


Chooser = Callable[[float, list[float]], int]  # (take time, open times of the open slots, oldest first) -> index


def first_in(take: float, opened: list[float]) -> int:
    """The oldest open slot."""
    return 0


def _job_spells(job: JobSlots, hire_delay_s: float, spells: SlotSpells, choose: Chooser) -> None:
    end = job.end_s
    opens = sorted([(t + hire_delay_s, n) for t, n in job.hires if t + hire_delay_s < end]
                   + [(t, 1) for t in job.reopens if t < end])
    waiting: list[float] = []  # open times of the slots open now, oldest first
    last = 0.0
    i = 0

    def advance(to: float) -> None:
        nonlocal last
        if waiting:
            spells.open_time_s += to - last
            spells.slot_time_s += (to - last) * len(waiting)
        last = to

    for take in job.takes:
        while i < len(opens) and opens[i][0] <= take:  # a slot opening at the instant of a join is open for it
            advance(opens[i][0])
            waiting.extend([opens[i][0]] * opens[i][1])
            i += 1
        advance(take)
        if waiting:
            index = choose(take, waiting) if waiting[0] != waiting[-1] else 0
            spells.fill.add(take - waiting.pop(index), observed=True)
            spells.takes += 1
        else:
            spells.unmatched += 1
    for at, n in opens[i:]:
        advance(at)
        waiting.extend([at] * n)
    advance(end)
    for opened in waiting:
        spells.fill.add(end - opened, observed=False)


def _job_counts(job: JobSlots, hire_delay_s: float, spells: SlotSpells) -> None:
    """As _job_spells without telling slots apart: counts and open time only (the hire-delay search's hot loop)."""
    end = job.end_s
    opens = sorted([(t + hire_delay_s, n) for t, n in job.hires if t + hire_delay_s < end]
                   + [(t, 1) for t in job.reopens if t < end])
    n, last, i = 0, 0.0, 0
    open_time = slot_time = 0.0
    takes = unmatched = 0
    count = len(job.takes)
    for j, at in enumerate([*job.takes, end]):
        while i < len(opens) and opens[i][0] <= at:
            t, k = opens[i]
            if n:
                open_time += t - last
                slot_time += (t - last) * n
            last, n, i = t, n + k, i + 1
        if n:
            open_time += at - last
            slot_time += (at - last) * n
        last = at
        if j == count:
            break  # the end of recruiting, not a join
        if n:
            n, takes = n - 1, takes + 1
        else:
            unmatched += 1
    spells.takes += takes
    spells.unmatched += unmatched
    spells.open_time_s += open_time
    spells.slot_time_s += slot_time


def slot_counts(jobs: Sequence[JobSlots], hire_delay_s: float) -> SlotSpells:
    """Joins, joins without an open slot, and open time, as slot_spells gives them, without the spells."""
    spells = SlotSpells()
    for job in jobs:
        _job_counts(job, hire_delay_s, spells)
    return spells


def slot_spells(jobs: Sequence[JobSlots], hire_delay_s: float, choose: Chooser = first_in) -> SlotSpells:
    """Spells of every slot of every job, hires opening `hire_delay_s` after their row, joins matched by `choose`."""
    spells = SlotSpells()
    for job in jobs:
        _job_spells(job, hire_delay_s, spells, choose)
    return spells


@dataclass(frozen=True)
class RateFit:
    """Pooled arrivals: joins over the time a slot was open, with the exact (Garwood) Poisson 95% interval."""

    rate_per_hour: Estimate
    takes: int
    open_time_s: float


def fit_rate(spells: SlotSpells, exposure_s: float | None = None) -> RateFit:
    """The Poisson rate of joins per hour of `exposure_s` (default: time with a slot open)."""
    from scipy.stats import chi2

    exposure = spells.open_time_s if exposure_s is None else exposure_s
    n = spells.takes
    per_hour = 3600.0 / exposure if exposure > 0 else math.nan
    low = float(chi2.ppf(0.025, 2 * n)) / 2 if n > 0 else 0.0
    high = float(chi2.ppf(0.975, 2 * n + 2)) / 2
    return RateFit(Estimate("rate_per_hour", n * per_hour, low * per_hour, high * per_hour), n, exposure)


@dataclass(frozen=True)
class DelayFit:
    """A constant posting delay: the largest consistent with every join, and its lower 95% bound."""

    delay: Estimate
    hires: int


def _exposure(spells: SlotSpells, per_slot: bool) -> float:
    return spells.slot_time_s if per_slot else spells.open_time_s


def fit_hire_delay(jobs: Sequence[JobSlots], per_slot: bool) -> DelayFit | None:
    """A constant hire delay and its 95% interval; None with fewer than MIN_EVENTS hires or when nothing bounds it.

    The largest delay every join allows (the maximum-likelihood one) overshoots the truth by the smallest slack, an
    exponential whose rate is the joins lost per second of delay: so the estimate is where shortening the delay
    loses one join in expectation (unbiased for that slack), and the lower bound where it loses ln 20.
    """
    hires = sum(len(job.hires) for job in jobs)
    if hires < MIN_EVENTS:
        return None
    base = slot_counts(jobs, 0.0)
    longest = max((job.end_s for job in jobs), default=0.0)
    if longest <= 0 or slot_counts(jobs, longest).unmatched == base.unmatched:
        return None
    low, high = 0.0, longest
    for _ in range(40):  # to a millionth of the job's length
        mid = (low + high) / 2
        low, high = (mid, high) if slot_counts(jobs, mid).unmatched == base.unmatched else (low, mid)
    best = slot_counts(jobs, low)
    exposure = _exposure(best, per_slot)
    rate = best.takes / exposure if exposure > 0 else math.nan

    def lost(d: float) -> float:
        return rate * (_exposure(slot_counts(jobs, d), per_slot) - exposure)

    def shortened(expected_lost: float) -> float:
        if lost(0.0) <= expected_lost:
            return 0.0
        lo, hi = 0.0, low
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if lost(mid) > expected_lost else (lo, mid)
        return lo

    return DelayFit(Estimate("value", shortened(1.0), shortened(LN20), low), hires)
