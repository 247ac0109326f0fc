"""Identities every run must satisfy, whatever the seed: Little's law on the waiting queue and balanced counts, on
runs with the platforms' slot rules (timeouts, abandoned slots held to the deadline) and without them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pavilion.sim import load_scenario, simulate

DEPARTURES = ["submitted", "returned", "abandoned"]
OLD_RULES = {"workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once"}
# Short limits against long stays: many workers are timed out, ghosts included.
TIMEOUTS = {"workload.assignment_duration_s": 900, "workload.active_duration_s": {"dist": "exponential", "mean": 1200},
            "workload.abandon_detection_s": {"dist": "exponential", "mean": 600}}
SCENARIOS = [
    {},  # the default: 1800-s limit, at_deadline
    {"policy.name": "on-demand"},
    TIMEOUTS,
    {**TIMEOUTS, "policy.name": "on-demand"},
    {**TIMEOUTS, "workload.abandoned_slot_reopens": "at_once", "workload.arrivals": {
        "mode": "per_slot", "time_to_fill_s": {"dist": "lognormal", "mean": 72, "sd": 87}}},
    OLD_RULES,
    {"workload.arrivals.mode": "per_slot", "workload.arrivals.rate_per_hour": 60,
     "workload.hire_delay_s": {"dist": "exponential", "mean": 120}},
    {"workload.abandon_detection_s": {"dist": "uniform", "low": 0, "high": 90}, "workload.arrivals.rate_per_hour": 200,
     **OLD_RULES},
    {"workload.waiting_patience_s": {"dist": "weibull", "shape": 0.8, "scale": 500},
     "workload.active_duration_s": {"dist": "lognormal", "mean": 600, "sd": 900}, "policy.min_waiting": 0},
]


def still_present(log: pd.DataFrame) -> pd.DataFrame:
    """The `joined` rows of workers neither rejected nor departed by the end (only ghosts: the stop made everyone
    else submit)."""
    gone = set(log.loc[log.event.isin(["rejected", *DEPARTURES]), "worker"])
    joined = log[log.event == "joined"]
    return joined[~joined.worker.isin(gone)]


@pytest.mark.parametrize("overrides", SCENARIOS)
def test_counts_balance(overrides: dict[str, object]) -> None:
    """arrivals = rejected + submitted + returned + abandoned + still present at the end, exactly; only ghosts are
    left at the end (the log cannot tell them apart, so this only bounds them); hires = the launch's + one per
    submission before the stop."""
    scenario = load_scenario(None, overrides={"run.horizon_s": 24 * 3600, **overrides})
    for seed in np.random.SeedSequence(11).spawn(3):
        result = simulate(scenario, seed, event_log=True)
        m, log = result.metrics, result.event_log
        assert log is not None
        present = len(still_present(log))
        assert m["arrivals"] == m["rejected"] + sum(m[how] for how in DEPARTURES) + present
        assert present <= scenario.policy.max_active + scenario.policy.max_waiting
        # every slot submitted before the stop is hired again, nothing else is
        policy = scenario.policy
        launch = policy.max_active + (0 if policy.name == "on-demand" else policy.max_waiting)
        at_stop = int(((log.event == "submitted") & (log.detail == "stop")).sum())
        assert at_stop > 0 and (log[log.detail == "stop"].time_s == scenario.run.horizon_s).all()
        assert m["hires"] == launch + m["submitted"] - at_stop
        if overrides.get("workload.arrivals.rate_per_hour") == 200:
            assert m["rejected"] > 0  # the balance was checked with rejects in it
        if overrides is TIMEOUTS:
            assert (log.detail == "timeout").sum() > 10  # ... and with timeouts in it


@pytest.mark.parametrize("overrides", [s for s in SCENARIOS if s.get("policy.name") != "on-demand"])
def test_littles_law_on_the_waiting_queue(overrides: dict[str, object]) -> None:
    """Over [0, T]: mean_waiting * T = (workers who left the waiting queue) * mean_wait_s + the time already spent
    by those still waiting at T (Little's law on one sample path; ghosts count until detected). Tolerance: 1e-9
    relative (floating point only)."""
    horizon = 48 * 3600.0
    scenario = load_scenario(None, overrides={"run.horizon_s": horizon, **overrides})
    for seed in np.random.SeedSequence(12).spawn(3):
        result = simulate(scenario, seed, event_log=True)
        m, log = result.metrics, result.event_log
        assert log is not None
        left = (log.event == "promoted").sum() + (log.event.isin(DEPARTURES) & (log.queue == "waiting")).sum()
        waiting_now = still_present(log)
        waiting_now = waiting_now[~waiting_now.worker.isin(log.loc[log.event == "promoted", "worker"])]
        unfinished = float((horizon - waiting_now.time_s).sum())
        assert left > 100
        area = m["mean_waiting"] * horizon
        assert area == pytest.approx(left * m["mean_wait_s"] + unfinished, rel=1e-9)
        assert m["mean_waiting"] == pytest.approx(left / horizon * m["mean_wait_s"], abs=3 * 3600 / horizon)
