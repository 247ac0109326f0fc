"""The platforms' slot rules (DESIGN.md section 3) on runs whose every instant is known: constant durations."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pavilion.sim import load_scenario, simulate

# One seat on demand, one slot: each worker's story can be read off the log.
ONE_SEAT = {"policy.name": "on-demand", "policy.min_active": 1, "policy.max_active": 1,
            "policy.min_waiting": 0, "policy.max_waiting": 0, "run.horizon_s": 3000,
            "workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "constant", "value": 5}}}


def rows(log: pd.DataFrame, event: str) -> pd.DataFrame:
    return log[log.event == event]


def test_a_worker_still_present_at_the_limit_is_timed_out_and_the_slot_reopens() -> None:
    s = load_scenario(None, overrides={**ONE_SEAT, "workload.active_duration_s": {"dist": "constant", "value": 5000},
                                       "workload.assignment_duration_s": 1000})
    log = simulate(s, 1, event_log=True).event_log
    assert log is not None
    joins, gone = rows(log, "joined").time_s.tolist(), rows(log, "abandoned")
    # joins at 5, timed out at 1005, slot refilled 5 s later, and so on; the last is stopped at the horizon
    assert joins == pytest.approx([5, 1010, 2015])
    assert gone.time_s.tolist() == pytest.approx([1005, 2010]) and set(gone.detail) == {"timeout"}
    assert rows(log, "submitted").detail.tolist() == ["stop"]


@pytest.mark.parametrize(("reopens", "next_join"), [("at_once", 110.0), ("at_deadline", 1010.0)])
def test_an_abandoned_slot_reopens_when_the_rule_says(reopens: str, next_join: float) -> None:
    """w1 joins at 5 and vanishes at 105 (seen at once): the slot re-opens then, or at 5 + 1000 (its deadline)."""
    s = load_scenario(None, overrides={**ONE_SEAT, "workload.active_duration_s": {"dist": "constant", "value": 100},
                                       "workload.active_exit": {"abandoned": 1},
                                       "workload.abandon_detection_s": {"dist": "constant", "value": 0},
                                       "workload.assignment_duration_s": 1000,
                                       "workload.abandoned_slot_reopens": reopens})
    log = simulate(s, 1, event_log=True).event_log
    assert log is not None
    assert rows(log, "joined").time_s.tolist()[:2] == pytest.approx([5, next_join])
    assert rows(log, "abandoned").time_s.iloc[0] == pytest.approx(105) and rows(log, "abandoned").detail.iloc[0] == ""


def test_a_ghost_undetected_at_the_deadline_is_timed_out_then() -> None:
    s = load_scenario(None, overrides={**ONE_SEAT, "workload.active_duration_s": {"dist": "constant", "value": 100},
                                       "workload.active_exit": {"abandoned": 1},
                                       "workload.abandon_detection_s": {"dist": "constant", "value": math.inf},
                                       "workload.assignment_duration_s": 1000})
    log = simulate(s, 1, event_log=True).event_log
    assert log is not None
    gone = rows(log, "abandoned")
    assert gone.time_s.tolist()[:2] == pytest.approx([1005, 2010]) and set(gone.detail) == {"timeout"}
    assert rows(log, "joined").time_s.tolist()[:2] == pytest.approx([5, 1010])


def test_a_returned_slot_waits_a_whole_fill_time_like_a_new_one() -> None:
    s = load_scenario(None, overrides={**ONE_SEAT, "workload.active_duration_s": {"dist": "constant", "value": 100},
                                       "workload.active_exit": {"returned": 1}})
    log = simulate(s, 1, event_log=True).event_log
    assert log is not None
    assert rows(log, "joined").time_s.tolist()[:3] == pytest.approx([5, 110, 215])


def test_the_stop_at_the_horizon_pays_everyone_present() -> None:
    """Nobody leaves on their own: everyone who joined submits at the stop and is paid for every second."""
    s = load_scenario(None, overrides={
        "run.horizon_s": 3600, "workload.arrivals.rate_per_hour": 600,
        "workload.waiting_patience_s": {"dist": "constant", "value": math.inf},
        "workload.active_duration_s": {"dist": "constant", "value": math.inf}})
    result = simulate(s, 3, event_log=True)
    log, m = result.event_log, result.metrics
    assert log is not None
    submitted = rows(log, "submitted")
    assert len(submitted) == 6 and (submitted.time_s == 3600).all() and set(submitted.detail) == {"stop"}
    assert m["submitted"] == 6 and m["hires"] == 6
    joined = rows(log, "joined").set_index("worker").time_s
    promoted = rows(log, "promoted").set_index("worker").time_s
    pay = sum(0.10 + 7.25 * (promoted.get(w, 3600) - joined[w]) / 3600 + 12.0 * (3600 - promoted.get(w, 3600)) / 3600
              for w in submitted.worker)
    assert m["cost_usd"] == pytest.approx(1.2 * pay, rel=1e-12)
    assert rows(log, "stop").time_s.tolist() == [3600]
