"""Metric parts checked against the event log and against exact quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from pavilion.sim import load_scenario, simulate
from pavilion.sim.quantile import LogHistogram

# Abandoned slots re-open when the worker vanishes and nobody times out: standbys are what this compares.
OLD_SLOT_RULES = {"workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once"}


@pytest.mark.parametrize("seed", range(3))
def test_cost_is_what_the_log_says_submitters_earned(seed: int) -> None:
    """cost_usd = (1 + fee) * sum over submitters of reward + waiting wage * wait + active wage * active time."""
    s = load_scenario(None, overrides={"run.horizon_s": 6 * 3600, "payment.platform_fee": 0.25})
    result = simulate(s, seed, event_log=True)
    log = result.event_log
    assert log is not None
    joined = log[log.event == "joined"].set_index("worker").time_s
    promoted = log[log.event == "promoted"].set_index("worker").time_s
    total = 0.0
    for row in log[log.event == "submitted"].itertuples():
        start = promoted.get(row.worker, row.time_s)
        total += 0.10 + 7.25 * (start - joined[row.worker]) / 3600 + 12.0 * (row.time_s - start) / 3600
    assert result.metrics["submitted"] > 5
    assert result.metrics["cost_usd"] == pytest.approx(1.25 * total, rel=1e-12)


def test_standbys_shorten_replacement_latency() -> None:
    """With no standbys (on-demand), each active departure waits for a hire and an arrival: latency > 0."""
    s = load_scenario(None, overrides={"run.horizon_s": 24 * 3600, "policy.name": "on-demand", **OLD_SLOT_RULES})
    m = simulate(s, 2).metrics
    assert m["replacement_latency_mean_s"] > 0 and m["replacement_latency_p95_s"] >= m["replacement_latency_mean_s"]
    # a deep waiting queue and fast arrivals replace most departures in the same instant (a promotion)
    deep = load_scenario(None, overrides={"run.horizon_s": 24 * 3600, "policy.min_waiting": 3, "policy.max_waiting": 5,
                                          "workload.arrivals.rate_per_hour": 120, **OLD_SLOT_RULES})
    d = simulate(deep, 2).metrics
    assert d["replacement_latency_mean_s"] < 0.05 * m["replacement_latency_mean_s"]


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_log_histogram_quantile_is_within_its_resolution(q: float) -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(300), rng.lognormal(3, 2, 5000)])
    h = LogHistogram()
    for v in values.tolist():
        h.add(v)
    exact = float(np.quantile(values, q, method="inverted_cdf"))
    assert h.quantile(q) == pytest.approx(exact, rel=0.0024)
    assert h.count == len(values) and np.isnan(LogHistogram().quantile(q))
