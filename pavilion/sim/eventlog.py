"""The per-worker event log and the queue-length timeline a run can record (off by default: memory stays flat).

Event log schema, shared with the live runtime (`GET /api/projects/<id>/events.csv` has the same columns; the
runtime mirrors these names rather than importing them, since it never imports `pavilion.sim`):

| column | type | meaning |
|---|---|---|
| time_s | float | seconds since launch |
| worker | str | worker id (`w1`, `w2`, ... in the simulator); '' for job-level rows |
| event | str | launched, hire, joined, rejected, promoted, ready, submitted, returned, abandoned, stop, expire |
| queue | str | 'waiting' or 'active' (the queue joined, promoted to, or left); '' otherwise |
| detail | str | hire: the number of slots; rejected: the reason (job_full, stopped); departures: the source |

Departures' sources in the simulator: `timeout` (the assignment's time limit), `stop` (submitted when the job
stopped at the horizon), '' otherwise; live logs name theirs (socket, presence, notification, reconcile, timeout,
stop). `ready` (the page acknowledging `promoted`) appears in live logs only.

Rows come in the order the policy saw things: first the event's own row (launched, joined, or the departure
with the queue the worker left), then one row per action the policy returned, in its order (hire, promoted,
rejected, stop, expire). A joiner promoted in the same step is logged `joined` in 'waiting' then `promoted`; a
rejected joiner is logged `joined` with queue '' then `rejected`. An abandonment is logged when it is detected
(or when the assignment times out, if that comes first). The log carries everything the metrics need:
`pavilion.sim.metrics_from_events` recomputes every metric from it.
"""

from __future__ import annotations

import pandas as pd

EVENT_LOG_COLUMNS: tuple[str, ...] = ("time_s", "worker", "event", "queue", "detail")
EVENT_KINDS: tuple[str, ...] = ("launched", "hire", "joined", "rejected", "promoted", "ready", "submitted",
                                "returned", "abandoned", "stop", "expire")
TIMELINE_COLUMNS: tuple[str, ...] = ("time_s", "waiting", "active")

Row = tuple[float, str, str, str, str]


def event_frame(rows: list[Row]) -> pd.DataFrame:
    """The event log as a DataFrame with EVENT_LOG_COLUMNS (time_s float, the rest str)."""
    frame = pd.DataFrame(rows, columns=list(EVENT_LOG_COLUMNS))
    return frame.astype({"time_s": "float64", "worker": "object", "event": "object", "queue": "object",
                         "detail": "object"})


def timeline_frame(rows: list[tuple[float, int, int]]) -> pd.DataFrame:
    """Queue lengths from each time on: one row at launch and one per change (time_s, waiting, active)."""
    frame = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    return frame.astype({"time_s": "float64", "waiting": "int64", "active": "int64"})
