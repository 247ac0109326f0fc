"""Summary statistics: the Student-t critical value against scipy, and the per-point summary frame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pavilion.sim.confidence import summarise, t_quantile


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10, 19, 30, 99, 500, 3000])
def test_t_quantile_matches_scipy(df: int) -> None:
    # tolerance: 1e-9 relative, far below anything a CI half-width is read at
    assert t_quantile(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)
    assert t_quantile(df, 0.9) == pytest.approx(stats.t.ppf(0.95, df), rel=1e-9)


def test_t_quantile_rejects_zero_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0)


def one_point(values: list[float]) -> pd.Series:
    return summarise(pd.DataFrame({"x": values}), [], ["x"]).iloc[0]


def test_summary_skips_empty_values_and_counts_them() -> None:
    row = one_point([1.0, math.nan, 3.0, 5.0, math.nan])
    assert row["runs"] == 5 and row["x_mean"] == 3.0 and row["x_empty"] == 2
    assert row["x_ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3), rel=1e-9)


def test_summary_with_too_few_values() -> None:
    row = one_point([2.0, math.nan])
    assert row["x_mean"] == 2.0 and math.isnan(row["x_ci95"])
    row = one_point([math.nan, math.nan])
    assert math.isnan(row["x_mean"]) and math.isnan(row["x_ci95"]) and row["x_empty"] == 2


def test_ci95_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    # 2000 points of n=5 normals each: coverage is Binomial(2000, .95), sd 0.5%; allow 4 sd either side.
    rng = np.random.default_rng(7)
    runs = pd.DataFrame({"point": np.repeat(np.arange(2000), 5), "x": rng.normal(10.0, 3.0, size=10_000)})
    summary = summarise(runs, ["point"], ["x"])
    hits = (summary["x_mean"] - 10.0).abs() <= summary["x_ci95"]
    assert abs(hits.mean() - 0.95) < 0.02


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
