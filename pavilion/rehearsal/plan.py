"""The simulated workers of one replication, drawn from the scaled scenario with the simulator's draw functions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pavilion.sim import Scenario
from pavilion.sim.draws import durations, exits, exponentials


@dataclass(frozen=True)
class PlannedWorker:
    """One arrival: when they try to take a slot, how long they wait and work, and how each stage ends."""

    index: int
    arrive_s: float  # seconds after launch (scaled)
    patience_s: float  # waiting this long, unpromoted, they leave as `waiting_exit`
    duration_s: float  # after promotion, they work this long and leave as `active_exit`
    waiting_exit: str  # submitted | returned | abandoned
    active_exit: str


def plan(scenario: Scenario, seed: int | np.random.SeedSequence) -> list[PlannedWorker]:
    """Pooled Poisson arrivals over [0, horizon) and each arrival's own draws, one Generator per quantity.

    An arrival who finds no open slot is lost, as in the simulator; the driver learns that from the platform."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    gaps_rng, patience_rng, duration_rng, wexit_rng, aexit_rng = (np.random.default_rng(s) for s in root.spawn(5))
    w = scenario.workload
    assert w.arrivals.rate_per_hour is not None
    gaps = exponentials(3600.0 / w.arrivals.rate_per_hour, gaps_rng)
    patience = durations(w.waiting_patience_s, patience_rng)
    duration = durations(w.active_duration_s, duration_rng)
    waiting_exit, active_exit = exits(w.waiting_exit, wexit_rng), exits(w.active_exit, aexit_rng)
    workers: list[PlannedWorker] = []
    t = next(gaps)
    while t < scenario.run.horizon_s:
        workers.append(PlannedWorker(len(workers), t, next(patience), next(duration), next(waiting_exit),
                                     next(active_exit)))
        t += next(gaps)
    return workers
