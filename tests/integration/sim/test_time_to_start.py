"""Hire delay and per-slot arrivals: the time to start has a closed form when nobody leaves before it."""

from __future__ import annotations

import numpy as np
import pytest

from pavilion.sim import load_scenario, simulate


@pytest.mark.parametrize(("delay_s", "rate_per_hour"), [(0.0, 30.0), (120.0, 12.0)])
def test_time_to_start_is_delay_plus_third_of_six_exponentials(delay_s: float, rate_per_hour: float) -> None:
    """Launch hires 6 slots that open after the delay; each is taken after an exponential time at the rate; the job
    starts at the 3rd join (min_active + min_waiting). E = delay + (1/6 + 1/5 + 1/4) / rate. Patience is infinite so
    nobody leaves first. Tolerance: 4 standard errors of the mean over 400 runs."""
    s = load_scenario(None, overrides={
        "workload.arrivals": {"mode": "per_slot", "rate_per_hour": rate_per_hour},
        "workload.hire_delay_s": {"dist": "constant", "value": delay_s},
        "workload.waiting_patience_s": {"dist": "constant", "value": float("inf")},
        "run.horizon_s": 20 * 3600,
        # the theory has no time limit: nobody is timed out
        "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
    })
    starts = np.array([simulate(s, seed, horizon_s=20 * 3600).metrics["time_to_start_s"]
                       for seed in np.random.SeedSequence(5).spawn(400)])
    exact = delay_s + (1 / 6 + 1 / 5 + 1 / 4) * 3600 / rate_per_hour
    se = starts.std(ddof=1) / np.sqrt(len(starts))
    assert starts.min() >= delay_s
    assert abs(starts.mean() - exact) <= 4 * se, (starts.mean(), se, exact)
