"""Summary statistics: the Student-t critical value against scipy, and the per-point summary frame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pavilion.sim.confidence import mean_and_ci95, summarise, t_quantile


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10, 19, 30, 99, 500, 3000])
def test_t_quantile_matches_scipy(df: int) -> None:
    # tolerance: 1e-9 relative, far below anything a CI half-width is read at
    assert t_quantile(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)
    assert t_quantile(df, 0.9) == pytest.approx(stats.t.ppf(0.95, df), rel=1e-9)


def test_t_quantile_rejects_zero_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0)


def test_mean_and_ci95_skips_empty_values_and_counts_them() -> None:
    values = [1.0, math.nan, 3.0, 5.0, math.nan]
    mean, half, empty = mean_and_ci95(values)
    assert mean == 3.0 and empty == 2
    assert half == pytest.approx(stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3), rel=1e-9)


def test_mean_and_ci95_with_too_few_values() -> None:
    assert mean_and_ci95([2.0, math.nan])[:2] == (2.0, pytest.approx(math.nan, nan_ok=True))
    mean, half, empty = mean_and_ci95([math.nan, math.nan])
    assert math.isnan(mean) and math.isnan(half) and empty == 2


def test_ci95_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    # 2000 samples of n=5 normals: coverage is Binomial(2000, .95), sd 0.5%; allow 4 sd either side.
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(2000):
        mean, half, _ = mean_and_ci95(rng.normal(10.0, 3.0, size=5))
        hits += abs(mean - 10.0) <= half
    assert abs(hits / 2000 - 0.95) < 0.02


def test_summarise_one_row_per_point_in_first_seen_order() -> None:
    runs = pd.DataFrame({
        "policy.name": ["on-demand", "on-demand", "pavilion", "pavilion"],
        "replication": [0, 1, 0, 1],
        "availability": [0.5, 0.7, 0.9, math.nan],
    })
    summary = summarise(runs, ["policy.name"], ["availability"])
    assert list(summary.columns) == ["policy.name", "runs", "availability_mean", "availability_ci95",
                                     "availability_empty"]
    assert summary["policy.name"].tolist() == ["on-demand", "pavilion"]
    assert summary["runs"].tolist() == [2, 2]
    assert summary["availability_mean"].tolist() == pytest.approx([0.6, 0.9])
    assert summary["availability_empty"].tolist() == [0, 1]
    assert math.isnan(summary["availability_ci95"].iloc[1])


def test_summarise_without_keys_is_one_row() -> None:
    runs = pd.DataFrame({"replication": [0, 1, 2], "cost_usd": [1.0, 2.0, 3.0]})
    summary = summarise(runs, [], ["cost_usd"])
    assert len(summary) == 1 and summary["runs"].iloc[0] == 3
    assert summary["cost_usd_mean"].iloc[0] == 2.0
