"""Exponential scenarios are finite continuous-time Markov chains: `pavilion.sim.exact` solves them (its chain
built by stepping the core policy), the simulator must agree within its confidence interval, and a chain written
out by hand from DESIGN.md section 2 (no abandonment, no hire delay) must equal the library's.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pavilion.core import QueueConfig
from pavilion.sim import exact, load_scenario, simulate
from pavilion.sim.exact import Chain, build_chain
from pavilion.sim.exact import stationary as sparse_stationary

State = tuple[int, int, bool]  # active, waiting, started
REPLICATIONS = 12


def stationary(q: np.ndarray) -> np.ndarray:
    """pi with pi Q = 0 and sum(pi) = 1 (dense least squares: independent of the library's sparse solve)."""
    a = np.vstack([q.T, np.ones(len(q))])
    b = np.zeros(len(q) + 1)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(a, b, rcond=None)
    return pi


def aggregated(chain: Chain, pi: np.ndarray) -> dict[State, float]:
    """The library chain's stationary probabilities summed over what the hand-written chain does not track
    (open slots, ghosts, pending hires): by (active, waiting, started)."""
    out: dict[State, float] = {}
    for state, p in zip(chain.states, pi, strict=True):
        key = (len(state.job.active), len(state.job.waiting), state.job.started)
        out[key] = out.get(key, 0.0) + float(p)
    return out


POINTS = [
    # (min_active, max_active, min_waiting, max_waiting), policy, mode, rate/h, patience, active, detection, delay
    ((2, 3, 1, 3), "pavilion", "pooled", 12.0, 600.0, 900.0, 0.0, 0.0),
    ((1, 2, 0, 2), "pavilion", "pooled", 8.0, 300.0, 600.0, 0.0, 0.0),
    ((2, 2, 1, 2), "pavilion", "per_slot", 6.0, 1200.0, 900.0, 0.0, 0.0),
    ((1, 3, 1, 2), "pavilion", "per_slot", 20.0, 400.0, 1500.0, 0.0, 0.0),
    # ghosts (abandonment seen after an exponential delay) and hires posted after an exponential delay
    ((2, 3, 1, 3), "pavilion", "pooled", 48.0, 600.0, 900.0, 60.0, 120.0),
    ((2, 3, 0, 0), "on-demand", "per_slot", 30.0, 600.0, 900.0, 45.0, 90.0),
]
ABANDONING = {"waiting": (0.5, 0.3, 0.2), "active": (0.8, 0.1, 0.1)}
NOT_ABANDONING = {"waiting": (0.6, 0.4, 0.0), "active": (0.8, 0.2, 0.0)}


def markovian(sizes: tuple[int, int, int, int], policy: str, mode: str, rate_h: float, patience_s: float,
              active_s: float, detection_s: float, delay_s: float) -> dict[str, object]:
    """Overrides of the default making it exponential, with a four-hour warmup before 200 measured hours."""
    def dist(mean: float) -> dict[str, object]:
        return {"dist": "exponential", "mean": mean} if mean > 0 else {"dist": "constant", "value": 0}

    exits = ABANDONING if detection_s > 0 else NOT_ABANDONING
    return {
        "policy.name": policy, **{f"policy.{k}": v for k, v in
                                  zip(("min_active", "max_active", "min_waiting", "max_waiting"), sizes, strict=True)},
        "workload.arrivals": {"mode": mode, "rate_per_hour": rate_h},
        "workload.waiting_patience_s": dist(patience_s), "workload.active_duration_s": dist(active_s),
        "workload.waiting_exit": dict(zip(("submitted", "returned", "abandoned"), exits["waiting"], strict=True)),
        "workload.active_exit": dict(zip(("submitted", "returned", "abandoned"), exits["active"], strict=True)),
        "workload.abandon_detection_s": dist(detection_s), "workload.hire_delay_s": dist(delay_s),
        "run.warmup_s": 4 * 3600, "run.horizon_s": 4 * 3600 + 200 * 3600,
        # the theory has no time limit: nobody is timed out
        "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
    }


STATIONARY = ("availability", "full_ratio", "mean_active", "mean_waiting", "hire_rate_per_hour", "mean_wait_s")


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"{p[1]}-{p[2]}-{p[3]:g}-{p[6]:g}-{p[7]:g}")
def test_simulator_matches_the_exact_chain(point: tuple[tuple[int, int, int, int], str, str, float, float, float,
                                                        float, float]) -> None:
    """Tolerance: 4 standard errors over 12 replications, plus 0.5% of the value for the warmup's leftover bias
    (four hours, over ten mean stay times). A standard error above 3% of the value would make the check
    meaningless and fails it. Rates and means that are not state probabilities (hire rate, mean wait by Little's
    law) are compared the same way; the mean time to start (a first passage) within 4 standard errors."""
    scenario = load_scenario(None, overrides=markovian(*point))
    theory = exact(scenario).metrics
    runs = [simulate(scenario, seed).metrics for seed in np.random.SeedSequence(1128).spawn(REPLICATIONS)]
    for metric in STATIONARY:
        expected = theory[metric]
        if metric == "mean_waiting" and expected == 0:
            assert all(run[metric] == 0 for run in runs)
            continue
        values = np.array([run[metric] for run in runs])
        if metric == "mean_wait_s" and np.isnan(values).any():
            continue
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert se <= 0.03 * max(expected, 0.05), (metric, se)  # sharp enough to mean something
        assert abs(values.mean() - expected) <= 4 * se + 0.005 * expected, (metric, values.mean(), se, expected)
    # the start is a first passage from the launch: 12 values of a widely spread time, so 4 standard errors only
    starts = np.array([run["time_to_start_s"] for run in runs])
    se = starts.std(ddof=1) / np.sqrt(len(starts))
    assert abs(starts.mean() - theory["time_to_start_s"]) <= 4 * se, (starts.mean(), se, theory["time_to_start_s"])


def hand_written_chain(cfg: QueueConfig, fill_s: float, patience_s: float, active_s: float,
                       submit_waiting: float, submit_active: float) -> tuple[list[State], np.ndarray, np.ndarray]:
    """The same model's chain with the pavilion rules written out here, not asked of the core (DESIGN.md section 2):
    a join enters waiting; the start promotes min_active once waiting holds min_active + min_waiting; balance
    promotes while waiting > min_waiting and active < max_active. Each open slot fills at rate 1/fill_s; a submitted
    slot is hired again and a returned one re-opens, both at once, so open = slots - active - waiting."""
    def settle(a: int, w: int, started: bool) -> State:
        if not started and w >= cfg.min_active + cfg.min_waiting:
            n = min(cfg.min_active, cfg.max_active - a)
            a, w, started = a + n, w - n, True
        if started:
            n = max(0, min(w - cfg.min_waiting, cfg.max_active - a))
            a, w = a + n, w - n
        return a, w, started

    slots = cfg.max_active + cfg.max_waiting
    states = [(a, w, s) for a, w, s in itertools.product(range(cfg.max_active + 1), range(cfg.max_waiting + 1),
                                                          (False, True))
              if settle(a, w, s) == (a, w, s) and (s or a == 0)]  # nobody is active before the start
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    hires = np.zeros(len(states))
    for a, w, started in states:
        i = index[(a, w, started)]
        moves = [((slots - a - w) / fill_s, (a, w + 1), 0.0),
                 (w / patience_s, (a, w - 1), submit_waiting),
                 (a / active_s, (a - 1, w), submit_active)]
        for rate, (a2, w2), submitted in moves:
            if rate > 0:
                q[i, index[settle(a2, w2, started)]] += rate
                q[i, i] -= rate
                hires[i] += rate * submitted  # one hire per submission
    return states, q, hires


PER_SLOT_POINTS = [
    # sizes, time_to_fill_s mean, patience mean, active mean
    ((2, 3, 1, 3), 150.0, 600.0, 900.0),
    ((1, 2, 0, 1), 400.0, 900.0, 600.0),
]


@pytest.mark.slow
@pytest.mark.parametrize(("sizes", "fill_s", "patience_s", "active_s"), PER_SLOT_POINTS)
def test_per_slot_exponential_time_to_fill_matches_a_hand_written_chain(
        sizes: tuple[int, int, int, int], fill_s: float, patience_s: float, active_s: float) -> None:
    """Per-slot arrivals given as `time_to_fill_s = exponential` (not the rate shorthand), no time limit, slots
    re-opening at once. Tolerance: 4 standard errors over 12 independent replications plus 0.5% of the value for
    the warmup's leftover bias; the hand-written chain must also equal the library's policy-derived one (1e-12)."""
    cfg = QueueConfig(*sizes)
    exits = {"waiting": (0.6, 0.4), "active": (0.8, 0.2)}
    states, q, hires = hand_written_chain(cfg, fill_s, patience_s, active_s, exits["waiting"][0], exits["active"][0])
    pi = stationary(q)
    assert np.allclose(pi @ q, 0, atol=1e-12) and pi.min() > -1e-12
    a = np.array([s[0] for s in states])
    w = np.array([s[1] for s in states])
    theory = {"availability": float(pi @ (a >= cfg.min_active)), "full_ratio": float(pi @ (a >= cfg.max_active)),
              "mean_active": float(pi @ a), "mean_waiting": float(pi @ w),
              "hire_rate_per_hour": float(pi @ hires) * 3600}
    scenario = load_scenario(None, overrides={
        "policy.min_active": cfg.min_active, "policy.max_active": cfg.max_active,
        "policy.min_waiting": cfg.min_waiting, "policy.max_waiting": cfg.max_waiting,
        "workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "exponential", "mean": fill_s}},
        "workload.waiting_patience_s": {"dist": "exponential", "mean": patience_s},
        "workload.active_duration_s": {"dist": "exponential", "mean": active_s},
        "workload.waiting_exit": {"submitted": exits["waiting"][0], "returned": exits["waiting"][1]},
        "workload.active_exit": {"submitted": exits["active"][0], "returned": exits["active"][1]},
        "workload.hire_delay_s": {"dist": "constant", "value": 0},
        "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
        "run.warmup_s": 4 * 3600, "run.horizon_s": 4 * 3600 + 200 * 3600,
    })
    # the library's chain, built from the core's rules, agrees on every state probability (1e-12)
    chain = build_chain(scenario)
    pi2 = aggregated(chain, sparse_stationary(chain.q))
    assert set(pi2) == set(states)
    assert all(abs(pi2[s] - p) < 1e-12 for s, p in zip(states, pi, strict=True))
    assert exact(scenario).metrics["availability"] == pytest.approx(theory["availability"], abs=1e-12)

    runs = [simulate(scenario, seed).metrics for seed in np.random.SeedSequence(1201).spawn(REPLICATIONS)]
    for metric, expected in theory.items():
        values = np.array([run[metric] for run in runs])
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert se <= 0.03 * max(expected, 0.05), (metric, se)
        assert abs(values.mean() - expected) <= 4 * se + 0.005 * expected, (metric, values.mean(), se, expected)
