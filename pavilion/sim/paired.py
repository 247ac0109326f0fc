"""Paired comparisons against a baseline: which point is each point's baseline, and the per-replication differences.

With common random numbers (the sweep's default) replication r of every point sees the same crowd, so the
difference of a metric between a point and its baseline, replication by replication, carries far less noise than
the difference of two independent means. `<metric>_diff_mean` is the mean over replications both points ran (and
both had a value) of point minus baseline, `<metric>_diff_ci95` its Student-t 95% half-width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pavilion.errors import InputError
from pavilion.sim.confidence import t_quantile

if TYPE_CHECKING:
    from pavilion.sim.scenario import Scenario


def baseline_points(scenario: Scenario, grid: Mapping[str, Sequence[object]], points: Sequence[Mapping[str, object]],
                    baseline: Mapping[str, object]) -> list[int | None]:
    """For each point, the position of its baseline: the point with the baseline's keys set to the baseline's
    values and every other swept key as the point has it (None where the grid has no such point).

    `policy.name=on-demand` over a rate sweep compares each rate's points with on-demand at that rate. A key that is
    not swept, or a value the sweep does not try, is an InputError naming it.
    """
    from pavilion.sim.sweep import distinct_points

    if not baseline:
        raise InputError("--baseline: give at least one KEY=VALUE")
    for key, value in baseline.items():
        if key not in grid:
            swept = ", ".join(grid) or "nothing"
            raise InputError(f"--baseline {key}={value}: {key} is not a swept key (swept: {swept})")
        if not any(_same(value, v) for v in grid[key]):
            tried = ",".join(str(v) for v in grid[key])
            raise InputError(f"--baseline {key}={value}: {key}={value} is not a grid point (the sweep tries "
                             f"{key}={tried})")
    index = {_frozen(p): i for i, p in enumerate(points)}
    found: list[int | None] = []
    for point in points:
        wanted = distinct_points(scenario, [{**point, **baseline}])[0]
        found.append(index.get(_frozen(wanted)))
    if all(i is None for i in found):
        given = ",".join(f"{k}={v}" for k, v in baseline.items())
        raise InputError(f"--baseline {given}: is not a grid point")
    return found


def _same(a: object, b: object) -> bool:
    return a == b and isinstance(a, str) == isinstance(b, str)


def _frozen(point: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    # repr keeps 1 and "1" apart; ints and equal floats compare as the scenario would read them
    return tuple((k, repr(float(v)) if isinstance(v, int | float) and not isinstance(v, bool) else repr(v))
                 for k, v in point.items())


def paired_differences(runs: pd.DataFrame, point_of_run: Sequence[int], base: Sequence[int | None],
                       metrics: Sequence[str]) -> pd.DataFrame:
    """One row per point: `<m>_diff_mean` and `<m>_diff_ci95` for every metric (NaN without a baseline, or with
    fewer than two pairs for the half-width)."""
    points = len(base)
    by_point = [runs[np.asarray(point_of_run) == p].set_index("replication") for p in range(points)]
    columns: dict[str, list[float]] = {}
    for metric in metrics:
        means, halves = [], []
        for p, b in enumerate(base):
            mean, half = _paired(by_point[p][metric], by_point[b][metric]) if b is not None else (math.nan, math.nan)
            means.append(mean)
            halves.append(half)
        columns[f"{metric}_diff_mean"] = means
        columns[f"{metric}_diff_ci95"] = halves
    return pd.DataFrame(columns)


def _paired(values: pd.Series, baseline: pd.Series) -> tuple[float, float]:
    """Mean and 95% half-width of values - baseline over the replications both have a value for."""
    diff = (values - baseline).dropna()  # aligned on the replication index: unpaired replications drop out
    n = len(diff)
    if n == 0:
        return math.nan, math.nan
    mean = float(diff.mean())
    if n < 2:
        return mean, math.nan
    return mean, t_quantile(n - 1) * float(diff.std(ddof=1)) / math.sqrt(n)


def significant(mean: float, half: float) -> bool:
    """Whether the 95% interval mean ± half excludes 0."""
    return not (math.isnan(mean) or math.isnan(half)) and abs(mean) > half
