"""Endless streams of random draws, taken from one Generator in batches (numpy calls are slow one at a time)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from pavilion.sim.distributions import Distribution
from pavilion.sim.scenario import EXIT_KINDS, ExitMix

BATCH = 512


def durations(dist: Distribution, rng: np.random.Generator, batch: int = BATCH) -> Iterator[float]:
    """Draws of `dist` in seconds, one `next()` at a time."""
    if dist.kind == "constant":
        return itertools.repeat(float(dist.params["value"]))
    return _batched(dist, rng, batch)


def _batched(dist: Distribution, rng: np.random.Generator, batch: int) -> Iterator[float]:
    while True:
        yield from dist.sample(rng, batch).tolist()


def exponentials(mean: float, rng: np.random.Generator, batch: int = BATCH) -> Iterator[float]:
    """Exponential draws with this mean."""
    while True:
        yield from rng.exponential(mean, batch).tolist()


def exits(mix: ExitMix, rng: np.random.Generator, batch: int = BATCH) -> Iterator[str]:
    """How each leaving worker leaves: 'submitted', 'returned' or 'abandoned' with the mix's probabilities."""
    shares = (mix.submitted, mix.returned, mix.abandoned)
    certain = [kind for kind, share in zip(EXIT_KINDS, shares, strict=True) if share == 1.0]
    if certain:
        return itertools.repeat(certain[0])
    return _categorical(np.cumsum(shares[:2]), rng, batch)


def _categorical(bounds: np.ndarray, rng: np.random.Generator, batch: int) -> Iterator[str]:
    while True:
        indices = np.searchsorted(bounds, rng.random(batch), side="right").tolist()
        yield from (EXIT_KINDS[i] for i in indices)
