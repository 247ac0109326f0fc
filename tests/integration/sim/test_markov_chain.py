"""The pavilion policy with exponential patience and active times, no abandonment and no hire delay is a finite
continuous-time Markov chain on (active, waiting, started): solve it exactly and compare the simulator with it.

The chain's transitions are found by asking the core policy what each event does to a representative state (the
rules live only there); the workload side (slots, arrival rates, exit rates, hires) is written out here.
With no abandonment and no hire delay, every slot is always either open or held: open = max_active + max_waiting
- active - waiting (a submitted slot is hired again at once, a returned one re-opens at once).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pavilion.core import Hire, JobState, QueueConfig, WorkerJoined, WorkerLeft, get_policy
from pavilion.core.events import Event
from pavilion.sim import load_scenario, simulate

State = tuple[int, int, bool]  # active, waiting, started
REPLICATIONS = 12


def _after(cfg: QueueConfig, state: State, event: Event) -> tuple[State, int]:
    """The policy's next (active, waiting, started) and the slots it hires, from a representative JobState."""
    a, w, started = state
    job = JobState(cfg, tuple(f"w{i}" for i in range(w)), tuple(f"a{i}" for i in range(a)),
                   launched=True, started=started, recruiting=True)
    new, actions = get_policy("pavilion").step(job, event)
    return (len(new.active), len(new.waiting), new.started), sum(x.count for x in actions if isinstance(x, Hire))


def generator(cfg: QueueConfig, mode: str, rate_s: float, patience_s: float, active_s: float,
              submit_waiting: float, submit_active: float) -> tuple[list[State], np.ndarray, np.ndarray]:
    """States, the generator matrix Q, and the expected hires per second in each state."""
    slots = cfg.max_active + cfg.max_waiting
    states = [(a, w, s) for a, w, s in itertools.product(range(cfg.max_active + 1), range(cfg.max_waiting + 1),
                                                          (False, True)) if not (s is False and a > 0)]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    hires = np.zeros(len(states))
    for state in states:
        a, w, _ = state
        i = index[state]
        open_slots = slots - a - w
        moves: list[tuple[float, Event]] = []
        if open_slots > 0:
            moves.append((rate_s if mode == "pooled" else rate_s * open_slots, WorkerJoined("new", 0.0)))
        for how, p_w, p_a in (("submitted", submit_waiting, submit_active),
                              ("returned", 1 - submit_waiting, 1 - submit_active)):
            if w:
                moves.append((w / patience_s * p_w, WorkerLeft("w0", 0.0, how)))  # type: ignore[arg-type]
            if a:
                moves.append((a / active_s * p_a, WorkerLeft("a0", 0.0, how)))  # type: ignore[arg-type]
        for rate, event in moves:
            if rate == 0:
                continue
            target, hired = _after(cfg, state, event)
            q[i, index[target]] += rate
            q[i, i] -= rate
            hires[i] += rate * hired
    return states, q, hires


def stationary(q: np.ndarray) -> np.ndarray:
    """pi with pi Q = 0 and sum(pi) = 1 (least squares on the stacked system; the chain has one closed class)."""
    a = np.vstack([q.T, np.ones(len(q))])
    b = np.zeros(len(q) + 1)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(a, b, rcond=None)
    return pi


POINTS = [
    # (min_active, max_active, min_waiting, max_waiting), mode, rate/h, patience mean, active mean
    ((2, 3, 1, 3), "pooled", 12.0, 600.0, 900.0),
    ((1, 2, 0, 2), "pooled", 8.0, 300.0, 600.0),
    ((2, 2, 1, 2), "per_slot", 6.0, 1200.0, 900.0),
    ((1, 3, 1, 2), "per_slot", 20.0, 400.0, 1500.0),
]


@pytest.mark.slow
@pytest.mark.parametrize(("sizes", "mode", "rate_h", "patience_s", "active_s"), POINTS)
def test_simulator_matches_the_exact_chain(sizes: tuple[int, int, int, int], mode: str, rate_h: float,
                                           patience_s: float, active_s: float) -> None:
    """Tolerance: 4 standard errors over independent replications, plus 0.5% of the value for the warmup's
    leftover bias (four hours, over ten mean stay times)."""
    cfg = QueueConfig(*sizes)
    exits = {"waiting": (0.6, 0.4), "active": (0.8, 0.2)}
    states, q, hires = generator(cfg, mode, rate_h / 3600, patience_s, active_s, exits["waiting"][0],
                                 exits["active"][0])
    pi = stationary(q)
    assert np.allclose(pi @ q, 0, atol=1e-12) and pi.min() > -1e-12
    a = np.array([s[0] for s in states])
    w = np.array([s[1] for s in states])
    theory = {"availability": float(pi @ (a >= cfg.min_active)), "mean_active": float(pi @ a),
              "mean_waiting": float(pi @ w), "hire_rate_per_hour": float(pi @ hires) * 3600}

    scenario = load_scenario(None, overrides={
        "policy.min_active": cfg.min_active, "policy.max_active": cfg.max_active,
        "policy.min_waiting": cfg.min_waiting, "policy.max_waiting": cfg.max_waiting,
        "workload.arrivals": {"mode": mode, "rate_per_hour": rate_h},
        "workload.waiting_patience_s": {"dist": "exponential", "mean": patience_s},
        "workload.active_duration_s": {"dist": "exponential", "mean": active_s},
        "workload.waiting_exit": {"submitted": exits["waiting"][0], "returned": exits["waiting"][1]},
        "workload.active_exit": {"submitted": exits["active"][0], "returned": exits["active"][1]},
        "workload.hire_delay_s": {"dist": "constant", "value": 0},
        "run.warmup_s": 4 * 3600, "run.horizon_s": 4 * 3600 + 200 * 3600,
        # the theory has no time limit: nobody is timed out
        "workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
    })
    runs = [simulate(scenario, seed).metrics for seed in np.random.SeedSequence(1128).spawn(REPLICATIONS)]
    for metric, exact in theory.items():
        values = np.array([run[metric] for run in runs])
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert se <= 0.02 * max(exact, 0.05), (metric, se)  # sharp enough to mean something
        assert abs(values.mean() - exact) <= 4 * se + 0.005 * exact, (metric, values.mean(), se, exact)


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
    the warmup's leftover bias; the hand-written chain must also equal the policy-derived one (1e-12)."""
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
    # the chain built from the core's rules agrees on every state probability that both have
    states2, q2, _ = generator(cfg, "per_slot", 1 / fill_s, patience_s, active_s, exits["waiting"][0],
                               exits["active"][0])
    pi2 = dict(zip(states2, stationary(q2), strict=True))
    assert all(abs(pi2[s] - p) < 1e-12 for s, p in zip(states, pi, strict=True))

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
    runs = [simulate(scenario, seed).metrics for seed in np.random.SeedSequence(1201).spawn(REPLICATIONS)]
    for metric, exact in theory.items():
        values = np.array([run[metric] for run in runs])
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert se <= 0.02 * max(exact, 0.05), (metric, se)
        assert abs(values.mean() - exact) <= 4 * se + 0.005 * exact, (metric, values.mean(), se, exact)
