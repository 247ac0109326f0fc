"""On-demand with pooled Poisson arrivals, exponential active times and no abandonment is a loss system M/M/c/c:
the fraction of time the active queue is full must be Erlang B(c, lambda/mu)."""

from __future__ import annotations

import numpy as np
import pytest

from pavilion.sim import load_scenario, simulate

REPLICATIONS = 16
WARMUP_S = 4 * 900.0  # four mean active times
HORIZON_S = WARMUP_S + 300 * 3600.0


def erlang_b(c: int, rho: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = rho * b / (k + rho * b)
    return b


def test_erlang_b_recursion_matches_published_values() -> None:
    assert erlang_b(5, 2) == pytest.approx(0.036697, abs=5e-7)
    assert erlang_b(10, 5) == pytest.approx(0.018385, abs=5e-7)
    assert erlang_b(15, 10) == pytest.approx(0.036497, abs=5e-7)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "rho"), [(1, 0.5), (3, 3.0), (5, 2.0), (4, 6.0)])
def test_full_ratio_is_erlang_b(c: int, rho: float) -> None:
    """Tolerance: 4 standard errors of the mean over independent replications (a false alarm about 1 in 16,000),
    plus 0.003 for what is left of the empty start after the warmup."""
    scenario = load_scenario(None, overrides={
        "policy.name": "on-demand", "policy.min_active": 1, "policy.max_active": c,
        "policy.min_waiting": 0, "policy.max_waiting": 0,
        "workload.arrivals": {"mode": "pooled", "rate_per_hour": rho * 3600 / 900},
        "workload.active_duration_s": {"dist": "exponential", "mean": 900},
        "workload.active_exit": {"submitted": 0.8, "returned": 0.2},
        "run.warmup_s": WARMUP_S, "run.horizon_s": HORIZON_S,
        # the theory has no time limit: nobody is timed out
        "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
    })
    seeds = np.random.SeedSequence(20261128).spawn(REPLICATIONS)
    full = np.array([simulate(scenario, seed).metrics["full_ratio"] for seed in seeds])
    se = full.std(ddof=1) / np.sqrt(REPLICATIONS)
    assert se < 0.01  # the check is sharp enough to catch a wrong model
    assert abs(full.mean() - erlang_b(c, rho)) <= 4 * se + 0.003, (full.mean(), se, erlang_b(c, rho))
