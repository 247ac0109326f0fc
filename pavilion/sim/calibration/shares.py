"""Exit shares (how workers leave a queue) with Wilson score 95% intervals for each share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pavilion.sim.calibration.fits import MIN_EVENTS, Z95, Estimate

KINDS = ("submitted", "returned", "abandoned")


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (sensible at 0 and 1 and in small samples)."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ShareFit:
    """Observed departures by kind; `shares` are the maximum-likelihood proportions with their intervals."""

    counts: dict[str, int]
    shares: tuple[Estimate, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def enough(self) -> bool:
        return self.total >= MIN_EVENTS

    def table(self, digits: int = 4) -> dict[str, float]:
        """The scenario's exit table; rounded, with `submitted` taking the rounding so the shares sum to 1."""
        rounded = {e.name: round(e.value, digits) for e in self.shares}
        rounded["submitted"] = round(1.0 - rounded["returned"] - rounded["abandoned"], digits + 2)
        return {kind: rounded[kind] for kind in KINDS}


def fit_shares(counts: Mapping[str, int]) -> ShareFit:
    """Shares of submitted, returned and abandoned among observed (uncensored) departures."""
    full = {kind: int(counts.get(kind, 0)) for kind in KINDS}
    total = sum(full.values())
    shares = tuple(Estimate(kind, full[kind] / total if total else math.nan, *wilson(full[kind], total))
                   for kind in KINDS)
    return ShareFit(full, shares)
