"""The sweep library on the real simulator: serial, process-pool and Dask runs give identical frames."""

from __future__ import annotations

import math

import pytest

from pavilion.sim import METRICS, Scenario, load_scenario, simulate
from pavilion.sim.sweep import SweepResult, expand_grid, sweep

GRID = {"policy.name": ["pavilion", "on-demand"], "policy.max_waiting": [1, 3]}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(None, overrides={"run.horizon_s": 3600})


@pytest.fixture(scope="module")
def serial(scenario: Scenario) -> SweepResult:
    return sweep(scenario, GRID, replications=3, seed=11, jobs=1)


def test_one_row_per_point_and_replication(serial: SweepResult) -> None:
    """on-demand reads no max_waiting: its two grid points are one configuration, run once, the key left blank."""
    runs = serial.runs
    assert len(runs) == 3 * 3
    assert list(runs.columns) == [*GRID, "replication", "seed", *METRICS]
    assert runs["replication"].tolist() == [0, 1, 2] * 3
    assert runs["policy.max_waiting"].tolist() == [1, 1, 1, 3, 3, 3, None, None, None]
    # common random numbers: replication r has one seed at every point, and replications differ
    assert (runs.groupby("replication")["seed"].nunique() == 1).all() and runs["seed"].nunique() == 3
    assert serial.summary["policy.name"].tolist() == ["pavilion", "pavilion", "on-demand"]
    assert serial.summary["policy.max_waiting"].tolist() == [1, 3, None]


def test_the_seed_column_repeats_a_run(scenario: Scenario, serial: SweepResult) -> None:
    row = serial.runs.iloc[4]
    point = scenario.with_overrides(expand_grid({k: [row[k]] for k in GRID})[0])
    again = simulate(point, int(row["seed"])).metrics
    for metric in METRICS:
        assert (math.isnan(again[metric]) and math.isnan(row[metric])) or again[metric] == row[metric], metric


def test_process_pool_equals_serial(scenario: Scenario, serial: SweepResult) -> None:
    parallel = sweep(scenario, GRID, replications=3, seed=11, jobs=2)
    assert parallel.runs.equals(serial.runs)
    assert parallel.summary.equals(serial.summary)


def test_a_different_seed_gives_different_runs(scenario: Scenario, serial: SweepResult) -> None:
    other = sweep(scenario, GRID, replications=3, seed=12, jobs=1)
    assert not other.runs.equals(serial.runs)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_dask_cluster_equals_serial(scenario: Scenario, serial: SweepResult) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        distributed = sweep(scenario, GRID, replications=3, seed=11, scheduler=cluster.scheduler_address)
    assert distributed.runs.equals(serial.runs)
    assert distributed.summary.equals(serial.summary)
