"""Round trip: simulate known workloads, calibrate from the event logs, and every 95% interval covers its truth.

Two workloads, both with censoring (promotion, the 1800 s assignment limit, the stop at the horizon) and with
abandoned slots re-opening at the deadline: (A) pooled arrivals, exponential patience, Weibull active durations,
a 45 s posting delay; (B) per-slot lognormal filling (fitted by imputing which slot each joiner took),
lognormal patience, exponential active durations. Each trial is one 8-hour job.

The quick test runs 20 trials per workload and asks for coverage of at least 75% (a 95% interval covers at least
15 of 20 with probability 0.997). The slow one runs 200 trials and asks for 95% +- 4% (91% to 99%, about 2.6
binomial standard deviations either side): for (A) always; for (B), whose 200 trials take about 4 minutes,
when PAVILION_FULL_COVERAGE=1 (measured so on 2026-12-01: every parameter between 91.5% and 97.5%).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from pavilion.sim import load_scenario, simulate
from pavilion.sim.calibration import Calibration, calibrate
from pavilion.sim.calibration.fits import Estimate
from pavilion.sim.scenario import Scenario

EXITS = {"waiting_exit": {"submitted": 0.5, "returned": 0.3, "abandoned": 0.2},
         "active_exit": {"submitted": 0.75, "returned": 0.15, "abandoned": 0.1}}
COMMON: dict[str, Any] = {
    "workload.waiting_exit": EXITS["waiting_exit"], "workload.active_exit": EXITS["active_exit"],
    "workload.assignment_duration_s": 1800, "workload.abandoned_slot_reopens": "at_deadline",
    "workload.abandon_detection_s": {"dist": "constant", "value": 30}, "run.horizon_s": 28800,
}


@dataclass(frozen=True)
class Workload:
    name: str
    overrides: dict[str, Any]
    families: dict[str, tuple[str]]
    truth: dict[str, dict[str, float]]  # duration key -> parameter -> true value


POOLED = Workload(
    "pooled",
    {**COMMON, "workload.arrivals": {"mode": "pooled", "rate_per_hour": 60},
     "workload.waiting_patience_s": {"dist": "exponential", "mean": 400},
     "workload.active_duration_s": {"dist": "weibull", "shape": 1.5, "scale": 700},
     "workload.hire_delay_s": {"dist": "constant", "value": 45}},
    {"waiting_patience_s": ("exponential",), "active_duration_s": ("weibull",)},
    {"waiting_patience_s": {"mean": 400}, "active_duration_s": {"shape": 1.5, "scale": 700},
     "arrivals": {"rate_per_hour": 60}, "hire_delay_s": {"value": 45}},
)
PER_SLOT = Workload(
    "per_slot",
    {**COMMON, "workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "lognormal", "mean": 90,
                                                                            "sd": 120}},
     "workload.waiting_patience_s": {"dist": "lognormal", "mean": 500, "sd": 400},
     "workload.active_duration_s": {"dist": "exponential", "mean": 900}},
    {"waiting_patience_s": ("lognormal",), "active_duration_s": ("exponential",), "time_to_fill_s": ("lognormal",)},
    {"waiting_patience_s": {"mean": 500, "sd": 400}, "active_duration_s": {"mean": 900},
     "time_to_fill_s": {"mean": 90, "sd": 120}},
)


def estimates(cal: Calibration, workload: Workload) -> dict[str, Estimate]:
    """Every fitted number of the true family, named `key.parameter`."""
    out: dict[str, Estimate] = {}
    fits = {"waiting_patience_s": cal.patience, "active_duration_s": cal.active, "time_to_fill_s": cal.fill}
    for key, (family,) in workload.families.items():
        fit = fits[key]
        assert fit is not None
        chosen = fit.family(family)
        assert chosen is not None, f"{key}: {family} did not converge"
        out.update({f"{key}.{p.name}": p for p in chosen.params})
    for key, shares in (("waiting_exit", cal.waiting_exit), ("active_exit", cal.active_exit)):
        out.update({f"{key}.{e.name}": e for e in shares.shares})
    if cal.rate is not None:
        out["arrivals.rate_per_hour"] = cal.rate.rate_per_hour
    if cal.hire_delay is not None and "hire_delay_s" in workload.truth:
        out["hire_delay_s.value"] = cal.hire_delay.delay
    return out


def truths(workload: Workload) -> dict[str, float]:
    flat = {f"{key}.{name}": value for key, params in workload.truth.items() for name, value in params.items()}
    flat.update({f"{key}.{kind}": share for key, mix in EXITS.items() for kind, share in mix.items()})
    return flat


def coverage(workload: Workload, trials: int, seed: int) -> dict[str, float]:
    """The share of trials whose interval covers the truth, for every parameter."""
    scenario: Scenario = load_scenario(None, overrides=workload.overrides)
    truth = truths(workload)
    hits: dict[str, int] = dict.fromkeys(truth, 0)
    for child in np.random.SeedSequence(seed).spawn(trials):
        log = simulate(scenario, child, event_log=True).event_log
        found = estimates(calibrate([log], scenario, families=workload.families), workload)
        assert set(found) == set(truth), f"missing estimates: {set(truth) - set(found)}"
        for name, estimate in found.items():
            hits[name] += estimate.covers(truth[name])
    return {name: count / trials for name, count in hits.items()}


def check(rates: Mapping[str, float], low: float, high: float) -> None:
    bad = {name: rate for name, rate in rates.items() if not low <= rate <= high}
    assert not bad, f"coverage outside [{low}, {high}]: {bad} (all: {dict(rates)})"


@pytest.mark.parametrize("workload", [POOLED, PER_SLOT], ids=lambda w: w.name)
def test_every_interval_covers_its_truth_most_of_the_time(workload: Workload) -> None:
    check(coverage(workload, trials=20, seed=14), 0.75, 1.0)


FULL = os.environ.get("PAVILION_FULL_COVERAGE") == "1"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("workload", [
    POOLED, pytest.param(PER_SLOT, marks=pytest.mark.skipif(not FULL, reason="set PAVILION_FULL_COVERAGE=1 (4 min)")),
], ids=lambda w: w.name)
def test_coverage_is_95_percent_within_4_points(workload: Workload) -> None:
    check(coverage(workload, trials=200, seed=1400), 0.91, 0.99)


def test_aic_picks_the_true_family_when_they_differ_clearly() -> None:
    # Weibull shape 1.5 active durations and lognormal fills: exponential must lose on AIC nearly always.
    scenario = load_scenario(None, overrides=POOLED.overrides)
    chosen = []
    for child in np.random.SeedSequence(7).spawn(5):
        cal = calibrate([simulate(scenario, child, event_log=True).event_log], scenario)
        chosen.append(cal.active.fits[0].family)
        assert cal.scenario.data["workload"]["active_duration_s"]["dist"] == cal.active.fits[0].family
    assert chosen.count("weibull") >= 4, chosen
