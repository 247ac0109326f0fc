"""The library API: simulate's result shapes, seeding, the event log schema and identities that hold in every run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pavilion.errors import InputError
from pavilion.sim import EVENT_KINDS, EVENT_LOG_COLUMNS, METRICS, RunResult, load_scenario, simulate

SHORT = {"run.horizon_s": 4 * 3600}


def test_metrics_are_every_design_column_in_order() -> None:
    assert METRICS == (
        "availability", "full_ratio", "mean_active", "mean_waiting", "time_to_start_s",
        "replacement_latency_mean_s", "replacement_latency_p95_s", "mean_wait_s", "arrivals", "rejected", "hires",
        "submitted", "returned", "abandoned", "hire_rate_per_hour", "cost_usd", "cost_per_available_hour")
    result = simulate(load_scenario(None, overrides=SHORT), seed=1)
    assert isinstance(result, RunResult) and tuple(result.metrics) == METRICS
    assert all(isinstance(v, float) for v in result.metrics.values())
    assert result.event_log is None and result.timeline is None


def test_same_seed_same_run_and_seed_sequences_work() -> None:
    s = load_scenario(None, overrides=SHORT)
    a, b = simulate(s, 5).metrics, simulate(s, 5).metrics
    assert a == pytest.approx(b, nan_ok=True)
    c = simulate(s, np.random.SeedSequence(5)).metrics
    assert c == pytest.approx(a, nan_ok=True)  # default_rng(int) seeds through SeedSequence(int)
    assert simulate(s, 6).metrics != a


def test_global_random_state_is_neither_used_nor_touched() -> None:
    s = load_scenario(None, overrides=SHORT)
    np.random.seed(0)
    before = np.random.get_state()[1].copy()  # type: ignore[index]
    first = simulate(s, 3).metrics
    assert (np.random.get_state()[1] == before).all()  # type: ignore[index]
    np.random.seed(99)
    assert simulate(s, 3).metrics == pytest.approx(first, nan_ok=True)


def test_empty_metrics_are_nan() -> None:
    never = load_scenario(None, overrides={"workload.arrivals.rate_per_hour": 1e-6, **SHORT})
    m = simulate(never, 1).metrics
    assert math.isnan(m["time_to_start_s"]) and math.isnan(m["replacement_latency_mean_s"])
    assert math.isnan(m["replacement_latency_p95_s"]) and math.isnan(m["cost_per_available_hour"])
    assert m["availability"] == 0 and m["hires"] == 6
    on_demand = load_scenario(None, overrides={"policy.name": "on-demand", **SHORT})
    assert math.isnan(simulate(on_demand, 1).metrics["mean_wait_s"])  # nobody ever waits


def test_event_log_schema_and_timeline() -> None:
    result = simulate(load_scenario(None, overrides=SHORT), 2, event_log=True)
    log, line = result.event_log, result.timeline
    assert isinstance(log, pd.DataFrame) and isinstance(line, pd.DataFrame)
    assert tuple(log.columns) == EVENT_LOG_COLUMNS and log["time_s"].dtype == np.float64
    assert set(log["event"]) <= set(EVENT_KINDS)
    assert set(log["queue"]) <= {"waiting", "active", ""}
    assert log["time_s"].is_monotonic_increasing and log.iloc[0]["event"] == "launched"
    assert log.iloc[1].to_dict() == {"time_s": 0.0, "worker": "", "event": "hire", "queue": "", "detail": "6"}
    assert tuple(line.columns) == ("time_s", "waiting", "active") and line.iloc[0].tolist() == [0, 0, 0]
    m = result.metrics
    counts = log["event"].value_counts()
    for name in ("rejected", "submitted", "returned", "abandoned"):
        assert counts.get(name, 0) == m[name]
    assert counts["joined"] == m["arrivals"]
    assert log.loc[log.event == "hire", "detail"].astype(int).sum() == m["hires"]
    only_line = simulate(load_scenario(None, overrides=SHORT), 2, timeline=True)
    assert only_line.event_log is None and only_line.timeline is not None
    assert only_line.timeline.equals(line)


def test_timeline_integrates_to_the_time_averages() -> None:
    s = load_scenario(None, overrides={**SHORT, "run.warmup_s": 1800})
    result = simulate(s, 4, timeline=True)
    line = result.timeline
    assert line is not None
    t = np.clip(np.append(line["time_s"].to_numpy(), s.run.horizon_s), s.run.warmup_s, None)
    dt = np.diff(t)
    span = s.run.horizon_s - s.run.warmup_s
    assert result.metrics["mean_active"] == pytest.approx(float(dt @ line["active"]) / span)
    assert result.metrics["mean_waiting"] == pytest.approx(float(dt @ line["waiting"]) / span)
    assert result.metrics["availability"] == pytest.approx(float(dt @ (line["active"] >= 2)) / span)
    assert result.metrics["full_ratio"] == pytest.approx(float(dt @ (line["active"] >= 3)) / span)


def test_horizon_argument_and_its_validation() -> None:
    s = load_scenario(None, overrides={"run.warmup_s": 100})
    result = simulate(s, 1, horizon_s=3600, timeline=True)
    assert result.timeline is not None and result.timeline["time_s"].max() < 3600
    with pytest.raises(InputError, match="horizon_s: must be finite and above run.warmup_s"):
        simulate(s, 1, horizon_s=50)


def test_ghosts_hold_their_place_until_detected() -> None:
    """A waiting worker vanishes after exactly 100 s and is seen leaving exactly 500 s later, promoted or not; with
    slots re-opening at once, newcomers take the ghosts' slots."""
    s = load_scenario(None, overrides={
        **SHORT, "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
        "workload.waiting_patience_s": {"dist": "constant", "value": 100},
        "workload.waiting_exit": {"abandoned": 1}, "workload.abandon_detection_s.value": 500,
        "workload.active_exit": {"submitted": 1},
        "workload.arrivals.rate_per_hour": 30})
    log = simulate(s, 8, event_log=True).event_log
    assert log is not None
    joined = log[log.event == "joined"].set_index("worker").time_s
    left = log[log.event == "abandoned"].set_index("worker").time_s
    assert len(left) > 10 and (log[log.event == "abandoned"].queue == "active").any()  # some ghosts were promoted
    assert np.allclose(left - joined[left.index], 600.0)
    assert simulate(s, 8).metrics["rejected"] > 0  # newcomers meet queues full of ghosts
