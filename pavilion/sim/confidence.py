"""Per-point summaries of sweep runs: mean and Student-t 95% confidence half-width of every metric."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

CONFIDENCE = 0.95


def _t_central_probability(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer df: the finite series of Abramowitz & Stegun 26.7.3-4."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 1:
        total, term = 0.0, math.cos(theta)
        if df > 1:
            total = term
            for k in range(3, df - 1, 2):
                term *= c2 * (k - 1) / k
                total += term
        return (2.0 / math.pi) * (theta + s * total) if df > 1 else 2.0 * theta / math.pi
    total, term = 1.0, 1.0
    for k in range(2, df - 1, 2):
        term *= c2 * (k - 1) / k
        total += term
    return s * total


@lru_cache(maxsize=256)
def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value t* with P(|T| <= t*) = confidence, found by bisection on the exact CDF."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    low, high = 0.0, 1.0
    while _t_central_probability(high, df) < confidence:
        low, high = high, high * 2.0
    for _ in range(80):
        mid = 0.5 * (low + high)
        if _t_central_probability(mid, df) < confidence:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def summarise(runs: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per point (keys in first-seen order): `runs`, then `<m>_mean`, `<m>_ci95`, `<m>_empty` per metric.

    Means and standard deviations skip empty (NaN) values; `_empty` counts them; `_ci95` is the Student-t 95%
    half-width, t(0.975, n-1) * sd / sqrt(n), and NaN with fewer than two values.
    """
    frame = runs if keys else runs.assign(_point=0)
    groups = frame.groupby(list(keys) or ["_point"], sort=False, dropna=False)
    values = groups[list(metrics)]
    mean, sd, count = values.mean(), values.std(ddof=1), values.count()
    size = groups.size()
    critical = count.map(lambda n: t_quantile(int(n) - 1) if n >= 2 else math.nan)
    half: pd.DataFrame = critical * sd / count.where(count > 0).pow(0.5)
    if keys:
        # each point's key values as the runs hold them (a blank next to integers stays a blank and integers stay
        # integers, where the group index would make them floats); first rows come in first-seen order, as groups do
        head = frame.loc[groups.head(1).index, list(keys)].reset_index(drop=True)
        head["runs"] = size.to_numpy()
    else:
        head = pd.DataFrame({"runs": size.to_numpy()})
    columns: dict[str, Any] = {name: head[name].to_numpy() for name in head.columns}
    for metric in metrics:
        columns[f"{metric}_mean"] = mean[metric].to_numpy()
        columns[f"{metric}_ci95"] = half[metric].to_numpy()
        columns[f"{metric}_empty"] = (size - count[metric]).to_numpy()
    return pd.DataFrame(columns)  # built at once: inserting 3 columns per metric one by one is several times slower
