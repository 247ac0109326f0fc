"""Live against simulated: each metric's live mean against a prediction interval from many simulated replications."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pavilion.sim import METRICS, Scenario, simulate

RESAMPLES = 4000  # simulated means of R replications drawn from the pool, for the interval of a live mean of R


@dataclass(frozen=True)
class Verdict:
    """One metric: the live mean, the simulated mean and interval for a mean of R runs, and the verdict."""

    metric: str
    live_mean: float
    sim_mean: float
    low: float
    high: float
    agree: str  # yes | no | n/a (nothing to measure on one side) | not modelled (reported, not compared)


def simulate_pool(scenario: Scenario, seeds: Sequence[np.random.SeedSequence]) -> pd.DataFrame:
    """One row of metrics per simulated replication."""
    return pd.DataFrame([simulate(scenario, seed).metrics for seed in seeds])


def interval(values: np.ndarray, replications: int, level: float, rng: np.random.Generator) -> tuple[float, float]:
    """Where the mean of `replications` live runs falls with probability `level` if live behaves as simulated."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    means = values if replications == 1 else rng.choice(values, (RESAMPLES, replications)).mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail], method="linear")
    return float(low), float(high)


def per_metric_level(family_level: float, compared: int) -> float:
    """Bonferroni: each of `compared` intervals at this level keeps the chance of any false alarm <= 1 - family."""
    return 1.0 - (1.0 - family_level) / max(1, compared)


def compare(live: Sequence[Mapping[str, float]], pool: pd.DataFrame, metrics: Sequence[str], level: float,
            seed: int = 0, unmodelled: Sequence[str] = ()) -> list[Verdict]:
    """A verdict per metric of `metrics`; `level` is the per-metric coverage of each interval; the `unmodelled`
    metrics get their figures but no verdict."""
    rng = np.random.default_rng(seed)
    out = []
    for name in metrics:
        live_values = np.array([run[name] for run in live], dtype=float)
        live_values = live_values[~np.isnan(live_values)]
        sim_values = pool[name].to_numpy(dtype=float)
        low, high = interval(sim_values, max(1, live_values.size), level, rng)
        live_mean = float(live_values.mean()) if live_values.size else math.nan
        sim_mean = float(np.nanmean(sim_values)) if np.any(~np.isnan(sim_values)) else math.nan
        if name in unmodelled:
            agree = "not modelled"
        elif math.isnan(live_mean) or math.isnan(low):
            agree = "n/a"
        else:
            agree = "yes" if low - 1e-9 <= live_mean <= high + 1e-9 else "no"
        out.append(Verdict(name, live_mean, sim_mean, low, high, agree))
    return out


def check_metrics(names: Sequence[str]) -> list[str]:
    from pavilion.errors import InputError

    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise InputError(f"--metrics: unknown metric {unknown[0]!r} (known: {', '.join(METRICS)})")
    return list(names)
