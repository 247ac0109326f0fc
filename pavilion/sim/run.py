"""The library entry point: `simulate(scenario, seed)` runs one replication and returns a RunResult."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pavilion.errors import InputError
from pavilion.sim.draws import streams
from pavilion.sim.engine import simulate_once
from pavilion.sim.eventlog import event_frame, timeline_frame
from pavilion.sim.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """One replication: `metrics` (every name of METRICS; NaN when empty), and on request the event log
    (EVENT_LOG_COLUMNS) and the timeline (time_s, waiting, active: the lengths from each time on)."""

    metrics: dict[str, float]
    event_log: pd.DataFrame | None = None
    timeline: pd.DataFrame | None = None
    events: int = field(default=0, compare=False)


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence, *, event_log: bool = False,
             horizon_s: float | None = None, timeline: bool = False) -> RunResult:
    """Simulate one replication of `scenario` from `seed` (no global random state): each random quantity draws
    from its own Generator, child i of SeedSequence(seed) (`pavilion.sim.draws.STREAMS`).

    `horizon_s` overrides the scenario's `run.horizon_s`. The timeline is recorded when `timeline` or
    `event_log` is set; otherwise memory stays flat however long the horizon.
    """
    horizon = scenario.run.horizon_s if horizon_s is None else float(horizon_s)
    if not (math.isfinite(horizon) and horizon > scenario.run.warmup_s):
        raise InputError(f"horizon_s: must be finite and above run.warmup_s ({scenario.run.warmup_s:g}), "
                         f"got {horizon:g}")
    rng = streams(seed)
    metrics, log, line, events = simulate_once(scenario, rng, horizon, event_log=event_log, timeline=timeline)
    return RunResult(metrics, event_frame(log) if log is not None else None,
                     timeline_frame(line) if line is not None else None, events)
