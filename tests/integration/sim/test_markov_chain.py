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
