"""Grid expansion, the seeding scheme and the executor, without the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pavilion.errors import InputError
from pavilion.sim import load_scenario
from pavilion.sim.sweep import _batches, distinct_points, execute, expand_grid, grid_points, run_seed


def test_grid_is_the_cartesian_product_last_key_fastest() -> None:
    points = expand_grid({"policy.name": ["pavilion", "on-demand"], "policy.max_waiting": [1, 2, 3]})
    assert len(points) == 6
    assert points[0] == {"policy.name": "pavilion", "policy.max_waiting": 1}
    assert points[1] == {"policy.name": "pavilion", "policy.max_waiting": 2}
    assert points[3] == {"policy.name": "on-demand", "policy.max_waiting": 1}


def test_empty_grid_is_one_point() -> None:
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize("values", [[], "123"])
def test_grid_values_must_be_a_non_empty_list(values: object) -> None:
    with pytest.raises(InputError, match="policy.max_waiting"):
        expand_grid({"policy.max_waiting": values})  # type: ignore[dict-item]


def test_seeds_come_from_seed_sequence_spawns() -> None:
    children = np.random.SeedSequence(42).spawn(3)
    independent = int(children[2].spawn(4)[1].generate_state(1, dtype=np.uint64)[0]) >> 1
    assert run_seed(42, 2, 1, independent=True) == independent
    common = int(np.random.SeedSequence(42).spawn(2)[1].generate_state(1, dtype=np.uint64)[0]) >> 1
    assert run_seed(42, 2, 1) == common


def test_common_random_numbers_share_a_seed_across_points_only() -> None:
    assert len({run_seed(5, p, 3) for p in range(6)}) == 1
    seeds = [run_seed(5, 0, r) for r in range(10)]
    assert len(set(seeds)) == len(seeds)
    assert run_seed(6, 0, 0) != run_seed(5, 0, 0)


def test_independent_seeds_depend_only_on_root_point_and_replication() -> None:
    seeds = [run_seed(5, p, r, independent=True) for p in range(6) for r in range(10)]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)
    assert run_seed(6, 0, 0, True) != run_seed(5, 0, 0, True)
    assert not set(seeds) & {run_seed(5, 0, r) for r in range(10)}


def test_batches_keep_order_and_cover_every_task() -> None:
    tasks = list(range(203))
    batches = _batches(tasks, workers=2)
    assert [t for b in batches for t in b] == tasks
    assert max(len(b) for b in batches) <= 16


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_execute_returns_results_in_task_order(jobs: int) -> None:
    tasks = [float(i) for i in range(57)]
    done: list[int] = []
    assert execute(math.sqrt, tasks, jobs=jobs, progress=done.append) == [math.sqrt(t) for t in tasks]
    assert sum(done) == len(tasks)


def test_execute_rejects_zero_jobs() -> None:
    with pytest.raises(InputError, match="--jobs"):
        execute(math.sqrt, [1.0], jobs=0)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "not-an-address"])
def test_unreachable_scheduler_is_an_input_error(address: str) -> None:
    with pytest.raises(InputError, match="--scheduler"):
        execute(math.sqrt, [1.0], scheduler=address)


def test_numpy_values_become_python_numbers() -> None:
    points = expand_grid({"policy.max_waiting": np.arange(2), "workload.arrivals.rate_per_hour": [np.float64(1.5)]})
    assert points == [{"policy.max_waiting": 0, "workload.arrivals.rate_per_hour": 1.5},
                      {"policy.max_waiting": 1, "workload.arrivals.rate_per_hour": 1.5}]
    assert type(points[0]["policy.max_waiting"]) is int


def test_points_a_policy_cannot_tell_apart_run_once() -> None:
    """The policies say which sizes they read; on-demand reads no waiting sizes, so 8 grid points are 1."""
    base = load_scenario(None)
    points = grid_points(base, {"policy.name": ["pavilion", "on-demand"], "policy.min_waiting": [0, 1],
                                "policy.max_waiting": [1, 2, 3, 4]})
    assert len(points) == 9
    assert points[:2] == [{"policy.name": "pavilion", "policy.min_waiting": 0, "policy.max_waiting": 1},
                          {"policy.name": "pavilion", "policy.min_waiting": 0, "policy.max_waiting": 2}]
    assert points[-1] == {"policy.name": "on-demand", "policy.min_waiting": None, "policy.max_waiting": None}
    # keys the policy does read, and keys outside the policy, still tell points apart
    two = grid_points(base, {"policy.name": ["on-demand"], "policy.max_active": [3, 4],
                             "workload.arrivals.rate_per_hour": [24]})
    assert [p["policy.max_active"] for p in two] == [3, 4]
    # the scenario's own policy decides when the name is not swept
    on_demand = load_scenario(None, overrides={"policy.name": "on-demand"})
    assert distinct_points(on_demand, [{"policy.max_waiting": 1}, {"policy.max_waiting": 2}]) == [
        {"policy.max_waiting": None}]
