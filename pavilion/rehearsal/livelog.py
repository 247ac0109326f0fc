"""A live `events.csv` read for comparison: the rows the simulator would log, queue lengths, and ready latencies."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pandas as pd

from pavilion.core.latency import ready_latencies as core_ready_latencies
from pavilion.sim import Scenario, metrics_from_events

DEPARTURES = ("submitted", "returned", "abandoned")


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"worker": str, "queue": str, "detail": str}, keep_default_na=False)


def comparable(log: pd.DataFrame) -> pd.DataFrame:
    """The log without abandonments seen after the stop: the simulator leaves a ghost still unseen at the end as it
    is (nobody pays it, nobody counts it), while the live sweep goes on and reports it a grace later."""
    stops = log.index[log["event"] == "stop"]
    if len(stops) == 0:
        return log
    late_ghost = (log.index > stops[0]) & (log["event"] == "abandoned")
    kept: pd.DataFrame = log[~late_ghost].reset_index(drop=True)
    return kept


def live_metrics(log: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    return metrics_from_events(comparable(log), scenario)


def timeline(log: pd.DataFrame) -> pd.DataFrame:
    """(time_s, waiting, active) from each change on, rebuilt from the rows' queues (until the stop)."""
    sizes = {"waiting": 0, "active": 0}
    points = [(0.0, 0, 0)]
    for t, event, queue in zip(log["time_s"], log["event"], log["queue"], strict=True):
        if event == "stop":
            break
        if event == "joined" and queue in sizes:
            sizes[queue] += 1
        elif event == "promoted":
            sizes["waiting"] -= 1
            sizes["active"] += 1
        elif event in DEPARTURES and queue in sizes:
            sizes[queue] -= 1
        else:
            continue
        points.append((float(t), sizes["waiting"], sizes["active"]))
    return pd.DataFrame(points, columns=["time_s", "waiting", "active"])


def ready_latencies(log: pd.DataFrame) -> np.ndarray:
    """Seconds from each worker's first `promoted` row to their `ready` row (the server's clock, both ends), by
    the runtime's own formula (pavilion.core.latency)."""
    rows = zip(log["time_s"], log["worker"], log["event"], strict=True)
    return np.array(list(core_ready_latencies(rows).values()), dtype=float)


def departures(log: pd.DataFrame) -> dict[str, int]:
    """How many stints left each way, and how many workers left more than once (never, if nothing is repeated)."""
    rows = log[log["event"].isin(DEPARTURES)]
    per_worker = Counter(rows["worker"])
    out = {kind: int((rows["event"] == kind).sum()) for kind in DEPARTURES}
    out["joined"] = int((log["event"] == "joined").sum())
    out["left_twice"] = sum(1 for n in per_worker.values() if n > 1)
    return out
