"""The scaled scenario both sides run: durations / K, rates and wages x K, the platform's slot rules, the grace."""

from __future__ import annotations

import math

import pytest

from pavilion.errors import InputError
from pavilion.rehearsal.scaling import GRACE_FLOOR_S, PRESENCE_SWEEP_S, live_limit, scale
from pavilion.sim import load_scenario


def test_every_duration_is_divided_and_every_rate_multiplied() -> None:
    base = load_scenario(None)
    scaled = scale(base, 60, "mturk")
    w, b = scaled.scenario.workload, base.workload
    assert w.arrivals.rate_per_hour == pytest.approx(b.arrivals.rate_per_hour * 60)
    assert w.waiting_patience_s.mean == pytest.approx(b.waiting_patience_s.mean / 60)
    assert w.active_duration_s.mean == pytest.approx(b.active_duration_s.mean / 60)
    assert w.assignment_duration_s == pytest.approx(30.0)  # 1800 s / 60, MTurk's least limit
    assert scaled.scenario.run.horizon_s == pytest.approx(base.run.horizon_s / 60)
    assert scaled.scenario.payment.active_wage_per_hour == pytest.approx(base.payment.active_wage_per_hour * 60)
    assert scaled.scenario.payment.reward == base.payment.reward


def test_the_local_platform_has_no_time_limit_and_reopens_at_once() -> None:
    w = scale(load_scenario(None), 60, "local").scenario.workload
    assert w.assignment_duration_s == math.inf and w.abandoned_slot_reopens == "at_once"


def test_detection_is_the_server_grace_then_the_next_sweep() -> None:
    scaled = scale(load_scenario(None, overrides={"workload.abandon_detection_s.value": 600}), 60, "local")
    assert scaled.grace_s == pytest.approx(10.0)
    d = scaled.scenario.workload.abandon_detection_s
    assert (d.kind, d.params) == ("uniform", {"low": 10.0, "high": 10.0 + PRESENCE_SWEEP_S})
    assert scaled.server_env()["PAVILION_ABANDON_GRACE_S"] == "10"
    assert scale(load_scenario(None), 60, "local").grace_s == GRACE_FLOOR_S  # 30 s / 60 is below the floor


def test_platform_limits_are_what_the_platform_takes() -> None:
    assert live_limit("mturk", 12.4) == 30 and live_limit("mturk", 45.6) == 46
    assert live_limit("prolific", 30) == 300 and live_limit("prolific", 400) == 420
    assert live_limit("prolific", math.inf) == math.inf and live_limit("local", 7.5) == 7.5


def test_metrics_come_back_unscaled() -> None:
    scaled = scale(load_scenario(None), 60, "local")
    back = scaled.unscale({"mean_wait_s": 5.0, "hire_rate_per_hour": 600.0, "availability": 0.9, "hires": 3})
    assert back == {"mean_wait_s": 300.0, "hire_rate_per_hour": 10.0, "availability": 0.9, "hires": 3}


@pytest.mark.parametrize(("overrides", "factor", "platform", "message"), [
    ({}, 0.5, "local", "--time-scale"),
    ({}, 60, "elsewhere", "--platform"),
    ({"workload.arrivals.mode": "per_slot", "workload.arrivals.rate_per_hour": 48}, 60, "local", "pooled"),
])
def test_bad_input_names_what_is_wrong(overrides: dict[str, object], factor: float, platform: str,
                                       message: str) -> None:
    with pytest.raises(InputError, match=message):
        scale(load_scenario(None, overrides=overrides), factor, platform)
