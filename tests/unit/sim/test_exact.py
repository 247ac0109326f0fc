"""`pavilion.sim.exact`: which scenarios are Markov chains, the chain's shape, and metrics that follow from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pavilion.errors import InputError
from pavilion.sim import METRICS, exact, load_scenario
from pavilion.sim.exact import build_chain, stationary

MARKOVIAN = {"workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
             "workload.abandon_detection_s": {"dist": "exponential", "mean": 30}}


@pytest.mark.parametrize(("overrides", "named"), [
    ({}, "workload.assignment_duration_s"),
    ({"workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once"},
     "workload.abandon_detection_s (constant)"),
    ({**MARKOVIAN, "workload.active_duration_s": {"dist": "lognormal", "mean": 900, "sd": 300}},
     "workload.active_duration_s (lognormal)"),
    ({**MARKOVIAN, "workload.hire_delay_s": {"dist": "constant", "value": 60}}, "workload.hire_delay_s (constant)"),
    ({**MARKOVIAN, "workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "weibull", "shape": 2,
                                                                                   "scale": 60}}},
     "workload.arrivals.time_to_fill_s (weibull)"),
])
def test_a_non_markovian_key_is_one_line_naming_it(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(InputError, match=named.replace("(", r"\(").replace(")", r"\)")) as info:
        exact(load_scenario(None, overrides=overrides))
    assert "\n" not in str(info.value)


def test_a_detection_delay_that_never_applies_is_not_checked() -> None:
    scenario = load_scenario(None, overrides={**MARKOVIAN, "workload.abandon_detection_s": {"dist": "uniform",
                                                                                            "low": 1, "high": 5},
                                              "workload.waiting_exit": {"submitted": 1.0},
                                              "workload.active_exit": {"submitted": 1.0}})
    assert exact(scenario).metrics["abandoned"] == 0.0


@pytest.mark.parametrize("extra", [{}, {"workload.hire_delay_s": {"dist": "exponential", "mean": 60}},
                                   {"policy.name": "on-demand"},
                                   {"workload.arrivals": {"mode": "per_slot", "rate_per_hour": 20}}])
def test_the_chain_is_a_generator_and_its_steady_state_a_distribution(extra: dict[str, object]) -> None:
    chain = build_chain(load_scenario(None, overrides={**MARKOVIAN, **extra}))
    q = chain.q.toarray()
    assert np.allclose(q.sum(axis=1), 0) and (q - np.diag(np.diag(q)) >= 0).all()
    pi = stationary(chain.q)
    assert pi.sum() == pytest.approx(1) and np.allclose(pi @ q, 0, atol=1e-12)
    assert chain.states[chain.initial].job.launched and not chain.states[chain.initial].job.started


def test_metrics_hold_the_identities_of_the_model() -> None:
    scenario = load_scenario(None, overrides=MARKOVIAN)
    result = exact(scenario)
    m = result.metrics
    assert set(m) == set(METRICS) and set(result.notes) == set(METRICS)
    assert 0 <= m["full_ratio"] <= m["availability"] <= 1
    assert m["mean_active"] <= scenario.policy.max_active and m["mean_waiting"] <= scenario.policy.max_waiting
    span_h = (scenario.run.horizon_s - scenario.run.warmup_s) / 3600
    assert m["hires"] == pytest.approx(m["hire_rate_per_hour"] * span_h)
    # in steady state accepted joins balance departures; submitted also counts the live workers paid at the stop,
    # at most everyone present (ghosts are not paid)
    paid_at_stop = m["submitted"] - (m["arrivals"] - m["rejected"] - m["returned"] - m["abandoned"])
    assert 0 < paid_at_stop <= m["mean_active"] + m["mean_waiting"] + 1e-9
    assert math.isnan(m["cost_usd"]) and "NaN" in result.notes["cost_usd"]


def test_time_to_start_is_the_mean_of_the_erlang_wait_for_the_first_joiners() -> None:
    """Pooled arrivals at rate r, nobody leaving before the start: the start is the (min_active + min_waiting)-th
    arrival, mean k / r."""
    scenario = load_scenario(None, overrides={**MARKOVIAN, "workload.waiting_patience_s": {"dist": "constant",
                                                                                           "value": float("inf")}})
    k = scenario.policy.min_active + scenario.policy.min_waiting
    assert exact(scenario).metrics["time_to_start_s"] == pytest.approx(k * 3600 / 48, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(min_active=st.integers(1, 2), extra_active=st.integers(0, 1), min_waiting=st.integers(0, 1),
       extra_waiting=st.integers(0, 2), policy=st.sampled_from(["pavilion", "on-demand"]),
       mode=st.sampled_from(["pooled", "per_slot"]), rate=st.floats(6, 120), detection=st.sampled_from([0, 40]),
       delay=st.sampled_from([0, 90]))
def test_any_small_markovian_scenario_solves_to_a_consistent_steady_state(
        min_active: int, extra_active: int, min_waiting: int, extra_waiting: int, policy: str, mode: str,
        rate: float, detection: int, delay: int) -> None:
    def dist(mean: int) -> dict[str, object]:
        return {"dist": "exponential", "mean": mean} if mean else {"dist": "constant", "value": 0}

    scenario = load_scenario(None, overrides={
        **MARKOVIAN, "policy.name": policy, "policy.min_active": min_active,
        "policy.max_active": min_active + extra_active, "policy.min_waiting": min_waiting,
        "policy.max_waiting": min_waiting + extra_waiting, "workload.arrivals": {"mode": mode, "rate_per_hour": rate},
        "workload.abandon_detection_s": dist(detection), "workload.hire_delay_s": dist(delay)})
    chain = build_chain(scenario)
    q = chain.q.toarray()
    assert np.allclose(q.sum(axis=1), 0, atol=1e-12)
    pi = stationary(chain.q)
    assert pi.min() >= 0 and pi.sum() == pytest.approx(1) and np.allclose(pi @ q, 0, atol=1e-10)
    m = exact(scenario).metrics
    cfg = scenario.policy
    assert 0 <= m["full_ratio"] <= m["availability"] <= 1
    # Round-off on states of probability ~0 leaves ~1e-17 either side of the bounds.
    assert -1e-12 <= m["mean_active"] <= cfg.max_active + 1e-12
    assert -1e-12 <= m["mean_waiting"] <= cfg.max_waiting + 1e-12
    assert 0 < m["time_to_start_s"] < math.inf and m["hire_rate_per_hour"] > 0
    if policy == "on-demand":
        assert m["mean_waiting"] == pytest.approx(0, abs=1e-12)
