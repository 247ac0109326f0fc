"""`calibrate(logs, base)`: every workload key DESIGN.md section 11 names, fitted from event logs, as a Scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pavilion.errors import InputError
from pavilion.sim.calibration.arrivals import DelayFit, RateFit, SlotSpells, fit_hire_delay, fit_rate, slot_counts
from pavilion.sim.calibration.fill import fit_fill
from pavilion.sim.calibration.fits import FAMILIES, MIN_EVENTS, DurationFit, fit_duration
from pavilion.sim.calibration.observations import (
    Observations,
    SlotRules,
    observe_frame,
    read_event_log,
)
from pavilion.sim.calibration.shares import ShareFit, fit_shares
from pavilion.sim.scenario import Scenario, load_scenario

Log = str | Path | pd.DataFrame


@dataclass(frozen=True)
class Calibration:
    """The fits, what was kept from the base and why, and the calibrated scenario."""

    base: Scenario
    observations: Observations
    patience: DurationFit
    active: DurationFit
    waiting_exit: ShareFit
    active_exit: ShareFit
    mode: str
    spells: SlotSpells
    rate: RateFit | None
    fill: DurationFit | None
    hire_delay: DelayFit | None
    kept: dict[str, str]  # workload key -> why the base scenario's value was kept
    scenario: Scenario

    @property
    def fitted_keys(self) -> list[str]:
        return [k for k in ("arrivals", "waiting_patience_s", "waiting_exit", "active_duration_s", "active_exit",
                            "hire_delay_s") if k not in self.kept]


def slot_rules(base: Scenario) -> SlotRules:
    """What the log cannot show, from the base scenario: detection delay, time limit, re-opening rule."""
    detection = base.workload.abandon_detection_s
    w = base.data["workload"]
    return SlotRules(detection.mean, float(w.get("assignment_duration_s", math.inf)),
                     str(w.get("abandoned_slot_reopens", "at_once")))


def observe(logs: Sequence[Log], rules: SlotRules, names: Sequence[str] | None = None) -> Observations:
    """Observations pooled over logs given as paths or DataFrames (named `log 1`, ... unless `names`)."""
    if not logs:
        raise InputError("no event log given")
    pooled = Observations()
    for i, log in enumerate(logs):
        name = names[i] if names else (str(log) if not isinstance(log, pd.DataFrame) else f"log {i + 1}")
        pooled.merge(observe_frame(log, name, rules) if isinstance(log, pd.DataFrame) else read_event_log(log, rules))
    return pooled


def _few(what: str, n: int) -> str:
    return f"{n} {what}; at least {MIN_EVENTS} needed"


Families = Sequence[str] | Mapping[str, Sequence[str]]


def _candidates(families: Families, key: str) -> Sequence[str]:
    return families.get(key, FAMILIES) if isinstance(families, Mapping) else families


class _Choices:
    """What goes into the calibrated scenario (`fitted`) and what stays as the base has it, and why (`kept`)."""

    def __init__(self) -> None:
        self.kept: dict[str, str] = {}
        self.fitted: dict[str, Any] = {}

    def duration(self, key: str, fit: DurationFit, what: str) -> DurationFit:
        if fit.chosen is None:
            self.kept[key] = _few(what, fit.events) if not fit.failed else "no family converged"
        else:
            self.fitted[key] = fit.chosen.table()
        return fit

    def shares(self, key: str, shares: ShareFit, what: str) -> ShareFit:
        if shares.enough:
            self.fitted[key] = shares.table()
        else:
            self.kept[key] = _few(what, shares.total)
        return shares

    def hire_delay(self, obs: Observations, base: Scenario, per_slot: bool) -> tuple[DelayFit | None, float]:
        """The fitted delay (pooled arrivals only: per slot it adds to every fill time) and the delay to use."""
        delay = None if per_slot else fit_hire_delay(obs.jobs, per_slot)
        hires = sum(len(job.hires) for job in obs.jobs)
        if delay is None:
            self.kept["hire_delay_s"] = (
                "per-slot arrivals: the delay cannot be told apart from time_to_fill_s" if per_slot
                else _few("hires", hires) if hires < MIN_EVENTS else "no join bounds the delay")
            return None, base.workload.hire_delay_s.mean
        self.fitted["hire_delay_s"] = {"dist": "constant", "value": round(delay.delay.value, 3)}
        return delay, delay.delay.value

    def fill(self, fill: DurationFit) -> DurationFit:
        if fill.chosen is None:
            self.kept["arrivals"] = _few("slots filled", fill.events)
        else:
            self.fitted["arrivals"] = {"mode": "per_slot", "time_to_fill_s": fill.chosen.table()}
        return fill

    def rate(self, rate: RateFit) -> RateFit:
        if rate.takes < MIN_EVENTS or not math.isfinite(rate.rate_per_hour.value):
            self.kept["arrivals"] = _few("joins", rate.takes)
        else:
            self.fitted["arrivals"] = {"mode": "pooled", "rate_per_hour": float(f"{rate.rate_per_hour.value:.4g}")}
        return rate


def calibrate(logs: Sequence[Log], base: Scenario | None = None, *, names: Sequence[str] | None = None,
              families: Families = FAMILIES) -> Calibration:
    """Fit the workload from event logs; policy, payment and run keys (and whatever has too little data) from `base`.

    `base` defaults to the embedded default scenario. `families` are the candidates for every duration, or per key
    (waiting_patience_s, active_duration_s, time_to_fill_s). Bad logs raise InputError naming file, row and problem.
    """
    base = base if base is not None else load_scenario(None)
    obs = observe(logs, slot_rules(base), names)
    c = _Choices()
    patience = c.duration("waiting_patience_s", fit_duration(
        obs.patience.times, obs.patience.observed, _candidates(families, "waiting_patience_s")),
        "waiting departures observed")
    active = c.duration("active_duration_s", fit_duration(
        obs.active.times, obs.active.observed, _candidates(families, "active_duration_s")),
        "active departures observed")
    waiting_exit = c.shares("waiting_exit", fit_shares(obs.waiting_exits), "waiting departures")
    active_exit = c.shares("active_exit", fit_shares(obs.active_exits), "active departures")
    mode = base.workload.arrivals.mode
    delay, used_delay = c.hire_delay(obs, base, mode == "per_slot")
    spells = slot_counts(obs.jobs, used_delay)
    rate, fill = None, None
    if mode == "per_slot":
        fill = c.fill(fit_fill(obs.jobs, used_delay, _candidates(families, "time_to_fill_s")))
    else:
        rate = c.rate(fit_rate(spells))
    data = base.to_dict()
    data["name"] = f"{base.name} calibrated"
    data["workload"].update(c.fitted)
    return Calibration(base, obs, patience, active, waiting_exit, active_exit, mode, spells, rate, fill, delay,
                       c.kept, load_scenario(data))
