"""Per-point summaries of sweep runs: mean and Student-t 95% confidence half-width of every metric."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
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


def mean_and_ci95(values: Sequence[float] | np.ndarray) -> tuple[float, float, int]:
    """(mean, 95% half-width, empty count) over the non-empty values; NaN where there are too few to say."""
    array = np.asarray(values, dtype=float)
    present = array[~np.isnan(array)]
    n, empty = int(present.size), int(array.size - present.size)
    if n == 0:
        return math.nan, math.nan, empty
    mean = float(present.mean())
    if n < 2:
        return mean, math.nan, empty
    half = t_quantile(n - 1) * float(present.std(ddof=1)) / math.sqrt(n)
    return mean, half, empty


def summarise(runs: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per point (keys in first-seen order): `runs`, then `<m>_mean`, `<m>_ci95`, `<m>_empty` per metric."""
    groups = runs.groupby(list(keys), sort=False, dropna=False) if keys else [((), runs)]
    rows: list[dict[str, object]] = []
    for point, frame in groups:
        values = point if isinstance(point, tuple) else (point,)
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        row["runs"] = len(frame)
        for metric in metrics:
            mean, half, empty = mean_and_ci95(frame[metric].to_numpy(dtype=float))
            row[f"{metric}_mean"], row[f"{metric}_ci95"], row[f"{metric}_empty"] = mean, half, empty
        rows.append(row)
    columns = [*keys, "runs", *(f"{m}_{s}" for m in metrics for s in ("mean", "ci95", "empty"))]
    return pd.DataFrame(rows, columns=columns)
