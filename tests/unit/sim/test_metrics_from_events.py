"""One metric definition: `metrics_from_events` on a run's event log equals the simulator's online metrics."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pavilion.errors import InputError
from pavilion.sim import METRICS, Scenario, load_scenario, metrics_from_events, simulate

N_SCENARIOS = 60
DURATIONS = [
    lambda r: {"dist": "exponential", "mean": float(r.uniform(60, 1500))},
    lambda r: {"dist": "lognormal", "mean": float(r.uniform(60, 1500)), "sd": float(r.uniform(10, 1500))},
    lambda r: {"dist": "weibull", "shape": float(r.uniform(0.6, 2)), "scale": float(r.uniform(60, 1500))},
    lambda r: {"dist": "uniform", "low": float(r.uniform(0, 100)), "high": float(r.uniform(100, 1500))},
]


def _mix(r: np.random.Generator) -> dict[str, float]:
    shares = r.dirichlet([2, 1, 1])
    return {"submitted": float(shares[0]), "returned": float(shares[1]), "abandoned": 1 - float(shares[0] + shares[1])}


def random_scenario(r: np.random.Generator) -> Scenario:
    """Both policies, pooled and per-slot arrivals, warm-up, ghosts, timeouts, both re-opening rules."""
    min_active = int(r.integers(1, 3))
    max_active = min_active + int(r.integers(0, 2))
    min_waiting = int(r.integers(0, 2))
    if r.random() < 0.5:
        arrivals: dict[str, Any] = {"mode": "pooled", "rate_per_hour": float(r.uniform(6, 120))}
    else:
        arrivals = {"mode": "per_slot", "time_to_fill_s": DURATIONS[int(r.integers(4))](r)}
    horizon = float(r.uniform(2, 6)) * 3600
    return load_scenario(None, overrides={
        "policy.name": "pavilion" if r.random() < 0.6 else "on-demand",
        "policy.min_active": min_active, "policy.max_active": max_active,
        "policy.min_waiting": min_waiting, "policy.max_waiting": min_waiting + int(r.integers(0, 3)),
        "workload.arrivals": arrivals,
        "workload.waiting_patience_s": DURATIONS[int(r.integers(4))](r),
        "workload.active_duration_s": DURATIONS[int(r.integers(4))](r),
        "workload.waiting_exit": _mix(r), "workload.active_exit": _mix(r),
        "workload.abandon_detection_s": {"dist": "exponential", "mean": float(r.uniform(1, 600))},
        "workload.hire_delay_s": {"dist": "constant", "value": float(r.choice([0.0, 30.0]))},
        "workload.assignment_duration_s": float(r.uniform(300, 2400)),
        "workload.abandoned_slot_reopens": str(r.choice(["at_once", "at_deadline"])),
        "run.horizon_s": horizon, "run.warmup_s": float(r.choice([0.0, r.uniform(0, horizon / 2)])),
    })


def same(a: dict[str, float], b: dict[str, float]) -> list[str]:
    """The metrics on which a and b differ by more than 1e-9 (relative or absolute); NaN equals NaN."""
    return [m for m in METRICS if not ((math.isnan(a[m]) and math.isnan(b[m]))
                                       or math.isclose(a[m], b[m], rel_tol=1e-9, abs_tol=1e-9))]


def test_random_scenarios_agree_to_1e_9() -> None:
    """60 random scenarios, one run each, from the log as returned and as read back from its CSV."""
    r = np.random.default_rng(20261201)
    seen = {"timeout": 0, "ghost": 0, "warmup": 0, "on-demand": 0, "per_slot": 0, "at_deadline": 0}
    for i in range(N_SCENARIOS):
        scenario = random_scenario(r)
        result = simulate(scenario, seed=i, event_log=True)
        log = result.event_log
        assert log is not None
        assert same(metrics_from_events(log, scenario), result.metrics) == [], i
        text = log.to_csv(index=False)
        back = pd.read_csv(io.StringIO(text), dtype={"worker": str, "queue": str, "detail": str},
                           keep_default_na=False)
        assert same(metrics_from_events(back, scenario), result.metrics) == [], i
        seen["timeout"] += int((log.detail == "timeout").any())
        seen["ghost"] += int(((log.event == "abandoned") & (log.detail == "")).any())
        seen["warmup"] += int(scenario.run.warmup_s > 0)
        seen["on-demand"] += int(scenario.policy.name == "on-demand")
        seen["per_slot"] += int(scenario.workload.arrivals.mode == "per_slot")
        seen["at_deadline"] += int(scenario.workload.abandoned_slot_reopens == "at_deadline")
    assert min(seen.values()) >= 10, seen  # every feature was exercised many times


def test_a_live_log_with_ready_rows_sources_and_late_rows(tmp_path: Any) -> None:
    """Live logs add `ready` rows, departure sources, repeated reports and submissions just after the stop."""
    scenario = load_scenario(None, overrides={"run.horizon_s": 4 * 3600, "run.warmup_s": 600})
    result = simulate(scenario, seed=7, event_log=True)
    log = result.event_log
    assert log is not None
    rows = []
    for row in log.itertuples(index=False):
        if row.event in ("submitted", "returned", "abandoned") and row.detail == "":
            row = row._replace(detail="socket")
        rows.append(tuple(row))
        if row.event == "promoted":
            rows.append((row.time_s, row.worker, "ready", "active", ""))
        if row.event == "returned":
            rows.append((row.time_s, row.worker, "returned", "", "reconcile"))  # the same departure, reported again
    path = tmp_path / "events.csv"
    pd.DataFrame(rows, columns=list(log.columns)).to_csv(path, index=False)
    assert same(metrics_from_events(path, scenario), result.metrics) == []
    # a submission 2 s after the stop counts and is paid, but adds no time to the window
    stop = float(log[log.event == "stop"].time_s.iloc[0])
    late = [r for r in rows if not (r[2] == "submitted" and r[4] == "stop")]
    first_stopped = log[(log.event == "submitted") & (log.detail == "stop")].iloc[0]
    late += [(stop + 2, first_stopped.worker, "submitted", first_stopped.queue, "socket")]
    m = metrics_from_events(late, scenario)
    assert m["availability"] == pytest.approx(result.metrics["availability"], rel=1e-12)
    assert m["submitted"] == result.metrics["submitted"] - (log.detail == "stop").sum() + 1
    assert m["cost_usd"] < result.metrics["cost_usd"]


@pytest.mark.parametrize(("rows", "message"), [
    ([(0.0, "", "launched", "", ""), (1.0, "w1", "teleported", "", "")], "event log row 2: unknown event"),
    ([(0.0, "", "hire", "", "many")], "event log row 1: a hire's detail must be its slot count"),
    ([("soon", "", "launched", "", "")], "event log row 1: time_s 'soon' is not a number"),
    ([(0.0, "", "launched", "", ""), (10.0, "", "stop", "", "")], "event log: the job ends at 10 s, not after"),
])
def test_bad_logs_are_one_line_errors(rows: list[tuple[object, ...]], message: str) -> None:
    scenario = load_scenario(None, overrides={"run.warmup_s": 60})
    with pytest.raises(InputError, match=f"^{message}"):
        metrics_from_events(rows, scenario)


def test_a_log_missing_a_column_is_named() -> None:
    with pytest.raises(InputError, match="missing column.*detail"):
        metrics_from_events(pd.DataFrame({"time_s": [0.0], "worker": [""], "event": ["launched"], "queue": [""]}),
                            load_scenario(None))
