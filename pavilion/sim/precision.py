"""Precision on demand: more replications, in batches, for the points whose 95% half-width is still too wide."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pavilion.errors import InputError
from pavilion.sim.confidence import t_quantile

DEFAULT_MAX_REPLICATIONS = 200


@dataclass(frozen=True)
class Precision:
    """Replicate until every point's `metric` half-width is below `half_width`, at most `max_replications`."""

    metric: str
    half_width: float
    max_replications: int = DEFAULT_MAX_REPLICATIONS

    def __str__(self) -> str:
        return f"{self.metric}={self.half_width:g}"


def parse_precision(text: str, metrics: Sequence[str], max_replications: int | None) -> Precision:
    """`METRIC=HALF_WIDTH` (for example availability=0.005): a known metric and a positive number."""
    metric, sep, raw = text.partition("=")
    metric = metric.strip()
    if not sep:
        raise InputError(f"--precision {text!r}: expected METRIC=HALF_WIDTH, for example availability=0.005")
    if metric not in metrics:
        raise InputError(f"--precision {text!r}: unknown metric {metric!r} (known: {', '.join(metrics)})")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--precision {text!r}: {raw.strip()!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"--precision {text!r}: the half-width must be a positive number")
    return Precision(metric, value, DEFAULT_MAX_REPLICATIONS if max_replications is None else max_replications)


def half_width(values: Sequence[float]) -> float:
    """Student-t 95% half-width of the non-empty values (inf with fewer than two: not known yet)."""
    kept = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if kept.size < 2:
        return math.inf
    return t_quantile(int(kept.size) - 1) * float(kept.std(ddof=1)) / math.sqrt(kept.size)


def more_needed(values: Sequence[float], precision: Precision) -> int:
    """How many replications to add to a point with these values (0: precise enough, or at the cap).

    The next batch aims at the count the current spread predicts, n (h / target)^2, plus a tenth, and is at least
    half the runs so far (so a point converges in a few batches rather than one run at a time). It depends only
    on the values, so the whole study is deterministic given the seed.
    """
    n = len(values)
    room = precision.max_replications - n
    h = half_width(values)
    if room <= 0 or h < precision.half_width:
        return 0
    if math.isinf(h):
        return min(room, max(n, 2))
    predicted = math.ceil(1.1 * n * (h / precision.half_width) ** 2)
    return min(room, max(predicted - n, math.ceil(n / 2), 2))


def refine(values_of: Callable[[], Mapping[int, Sequence[float]]], run_more: Callable[[dict[int, int]], None],
           precision: Precision) -> None:
    """Add batches until no point needs more: `values_of()` gives each point's metric values so far (replication
    order), `run_more({point: count})` runs and records that many further replications of each point."""
    while True:
        wanted = {p: more_needed(v, precision) for p, v in values_of().items()}
        wanted = {p: k for p, k in wanted.items() if k > 0}
        if not wanted:
            return
        run_more(wanted)
