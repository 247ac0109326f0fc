"""Common random numbers and paired differences against a baseline, on the default scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pavilion.errors import InputError
from pavilion.sim import METRICS, load_scenario, simulate, sweep
from pavilion.sim.draws import STREAMS, streams

GRID = {"policy.name": ["pavilion", "on-demand"], "policy.max_waiting": [1, 3]}


def test_each_quantity_has_its_own_stream_and_a_seed_repeats_them() -> None:
    first, again = streams(7), streams(np.random.SeedSequence(7))
    assert list(first) == list(STREAMS)
    draws = {name: g.random(4).tolist() for name, g in first.items()}
    assert draws == {name: g.random(4).tolist() for name, g in again.items()}
    assert len({tuple(v) for v in draws.values()}) == len(STREAMS)


def test_same_seed_same_run_and_a_seed_sequence_can_be_reused() -> None:
    scenario = load_scenario(None, overrides={"run.horizon_s": 7200})
    seq = np.random.SeedSequence(11)
    assert simulate(scenario, seq).metrics == simulate(scenario, seq).metrics == simulate(scenario, 11).metrics


def test_common_random_numbers_give_every_point_the_same_crowd() -> None:
    """Before the job starts every worker waits, whatever max_waiting: with the same arrival and patience streams
    the start time is equal at every max_waiting, replication by replication; with independent seeds it is not."""
    scenario = load_scenario(None, overrides={"run.horizon_s": 3600})
    grid = {"policy.max_waiting": [1, 2, 3]}
    for independent in (False, True):
        runs = sweep(scenario, grid, replications=6, independent=independent).runs
        starts = runs.pivot(index="replication", columns="policy.max_waiting", values="time_to_start_s")
        same = bool((starts.nunique(axis=1) == 1).all())
        assert same != independent
        assert (runs.groupby("replication")["seed"].nunique() == (3 if independent else 1)).all()


def test_paired_differences_are_the_mean_and_t_interval_of_the_per_replication_differences() -> None:
    scenario = load_scenario(None, overrides={"run.horizon_s": 7200})
    result = sweep(scenario, GRID, replications=5, baseline={"policy.name": "on-demand"})
    runs, summary = result.runs, result.summary
    assert result.baseline == (2, 2, 2)
    assert {f"{m}_diff_{s}" for m in METRICS for s in ("mean", "ci95")} <= set(summary.columns)
    base = runs[runs["policy.name"] == "on-demand"].set_index("replication")
    for row, waiting in enumerate((1, 3)):
        mine = runs[runs["policy.max_waiting"] == waiting].set_index("replication")
        diff = (mine["cost_usd"] - base["cost_usd"]).to_numpy()
        assert summary["cost_usd_diff_mean"].iloc[row] == pytest.approx(diff.mean(), rel=1e-12)
        half = 2.7764451051977987 * diff.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
        assert summary["cost_usd_diff_ci95"].iloc[row] == pytest.approx(half, rel=1e-9)
    assert summary["availability_diff_mean"].iloc[2] == 0.0  # the baseline against itself


def test_a_baseline_over_other_swept_keys_is_the_one_at_the_same_settings() -> None:
    scenario = load_scenario(None, overrides={"run.horizon_s": 3600})
    grid = {"workload.arrivals.rate_per_hour": [30, 60], "policy.name": ["pavilion", "on-demand"]}
    result = sweep(scenario, grid, replications=2, baseline={"policy.name": "on-demand"})
    assert result.baseline == (1, 1, 3, 3)


@pytest.mark.parametrize(("baseline", "named"), [
    ({"policy.min_waiting": 0}, "policy.min_waiting is not a swept key"),
    ({"policy.name": "nope"}, "policy.name=nope is not a grid point"),
    ({}, "--baseline"),
])
def test_a_bad_baseline_names_itself_before_anything_runs(baseline: dict[str, object], named: str) -> None:
    with pytest.raises(InputError, match=named):
        sweep(load_scenario(None), GRID, replications=2, baseline=baseline)


@pytest.mark.slow
def test_common_random_numbers_narrow_the_paired_difference() -> None:
    """The point of CRN: the per-replication cost difference of pavilion (max_waiting 3) against on-demand varies
    less when both saw the same crowd. Measured: about 0.55 of the independent standard deviation at 60
    replications; the test asks for below 0.8 (the ratio of two 60-run standard deviations is within about +-20%
    of its value at 95%)."""
    scenario = load_scenario(None)
    sds = {}
    for independent in (False, True):
        runs = sweep(scenario, {"policy.name": ["pavilion", "on-demand"], "policy.max_waiting": [3]},
                     replications=60, independent=independent).runs
        wide = runs.pivot(index="replication", columns="policy.name", values="cost_usd")
        sds[independent] = float(pd.Series(wide["pavilion"] - wide["on-demand"]).std(ddof=1))
    assert sds[False] < 0.8 * sds[True], sds
