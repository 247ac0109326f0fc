"""Quantiles of non-negative values in bounded memory: a sparse logarithmic histogram (0.23% resolution)."""

from __future__ import annotations

import math

BINS_PER_DECADE = 500  # a bin spans a factor 10**(1/500) = 1.0046; its geometric middle is within 0.23%


class LogHistogram:
    """Counts of values per logarithmic bin, exact zeros apart; memory grows with the range, not the count."""

    def __init__(self) -> None:
        self.zeros = 0
        self.bins: dict[int, int] = {}
        self.count = 0

    def add(self, value: float) -> None:
        self.count += 1
        if value <= 0:
            self.zeros += 1
            return
        b = math.floor(math.log10(value) * BINS_PER_DECADE)
        self.bins[b] = self.bins.get(b, 0) + 1

    def quantile(self, q: float) -> float:
        """The nearest-rank q-quantile (the ceil(q*n)-th smallest value) to within 0.23%; NaN when empty."""
        if self.count == 0:
            return math.nan
        rank = max(1, math.ceil(q * self.count))
        seen = self.zeros
        if seen >= rank:
            return 0.0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= rank:
                return float(10 ** ((b + 0.5) / BINS_PER_DECADE))
        raise AssertionError("unreachable: the ranks add up to count")
