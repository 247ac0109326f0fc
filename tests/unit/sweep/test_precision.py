"""Precision on demand: parsing, the batch rule, and a sweep that stops where the half-width is met."""

from __future__ import annotations

import math

import pytest

from pavilion.errors import InputError
from pavilion.sim import METRICS, load_scenario, sweep
from pavilion.sim.precision import Precision, half_width, more_needed, parse_precision


def test_parse_precision_checks_the_metric_and_the_number() -> None:
    assert parse_precision("availability=0.005", METRICS, None) == Precision("availability", 0.005, 200)
    assert parse_precision("cost_usd=2", METRICS, 50).max_replications == 50
    for text, named in (("availabilty=0.1", "availabilty"), ("availability=x", "'x'"), ("availability=0", "positive"),
                        ("availability", "METRIC=HALF_WIDTH"), ("availability=inf", "positive")):
        with pytest.raises(InputError, match=named):
            parse_precision(text, METRICS, None)


def test_half_width_is_the_t_interval_of_the_non_empty_values() -> None:
    assert half_width([1.0, math.nan]) == math.inf
    assert half_width([1.0, 3.0]) == pytest.approx(12.706204736174698 * math.sqrt(2) / math.sqrt(2))


def test_more_needed_aims_at_the_predicted_count_within_the_cap() -> None:
    target = Precision("availability", 0.1, max_replications=40)
    assert more_needed([0.5, 0.5, 0.5], target) == 0  # zero spread: precise already
    assert more_needed([0.0, 1.0] * 5, target) == 30  # predicted ~ 1.1 * 10 * (0.36 / 0.1)^2 > cap: up to the cap
    assert more_needed([0.0, 1.0] * 20, target) == 0  # at the cap
    assert more_needed([math.nan, 0.3], target) == 2  # not known yet: double
    small = [0.50, 0.55, 0.45, 0.52, 0.48, 0.5]
    assert more_needed(small, Precision("availability", 0.035, 40)) == 3  # predicted 1 more; at least half the runs
    assert more_needed(small, Precision("availability", 0.03, 40)) == 4  # ceil(1.1 * 6 * (0.0357 / 0.03)^2) - 6


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_precise_sweep_is_the_same_whatever_jobs_and_pairs_common_replications(jobs: int) -> None:
    scenario = load_scenario(None, overrides={"run.horizon_s": 3600})
    grid = {"policy.name": ["pavilion", "on-demand"]}
    target = Precision("availability", 0.05, max_replications=30)
    result = sweep(scenario, grid, replications=3, precision=target, jobs=jobs, baseline={"policy.name": "on-demand"})
    again = sweep(scenario, grid, replications=3, precision=target, jobs=1, baseline={"policy.name": "on-demand"})
    assert result.runs.equals(again.runs) and result.summary.equals(again.summary)
    summary = result.summary
    assert ((summary["availability_ci95"] < 0.05) | (summary["runs"] == 30)).all()
    pavilion = result.runs[result.runs["policy.name"] == "pavilion"]
    on_demand = result.runs[result.runs["policy.name"] == "on-demand"].set_index("replication")
    common = pavilion.set_index("replication").index.intersection(on_demand.index)
    diff = pavilion.set_index("replication").loc[common, "cost_usd"] - on_demand.loc[common, "cost_usd"]
    assert summary["cost_usd_diff_mean"].iloc[0] == pytest.approx(diff.mean())
