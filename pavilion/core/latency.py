"""Promotion-to-ready latency read from event-log rows: one formula for the live dashboard, exports and rehearsals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def ready_latencies(rows: Iterable[tuple[float, str, str]]) -> dict[str, float]:
    """Seconds from each worker's first `promoted` row to their first `ready` row after it, by worker, in the order
    of the `ready` rows; rows are (time_s, worker, event) in log order (DESIGN.md section 9)."""
    promoted: dict[str, float] = {}
    out: dict[str, float] = {}
    for time_s, worker, event in rows:
        if event == "promoted":
            promoted.setdefault(worker, float(time_s))
        elif event == "ready" and worker in promoted and worker not in out:
            out[worker] = float(time_s) - promoted[worker]
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between the closest ranks (numpy's default); NaN when
    there are no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """`{"count", "p50", "p90", "max"}` in seconds; the three are None when there is nothing to summarise."""
    if not values:
        return {"count": 0, "p50": None, "p90": None, "max": None}
    return {"count": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90), "max": max(values)}
