"""Endless streams of random draws, one Generator per random quantity, taken in batches (numpy calls are slow one
at a time)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from pavilion.sim.distributions import Distribution
from pavilion.sim.scenario import EXIT_KINDS, ExitMix

BATCH = 512
# One independent stream per random quantity, in this order: child i of the run's SeedSequence feeds STREAMS[i].
# Keeping quantities apart is what makes common random numbers work: a configuration that hires more workers
# draws more patience times, but the k-th arrival gap, the k-th active duration, ... are the same in every
# configuration run with the same seed. Append new quantities at the end, never reorder (old seeds would change).
STREAMS = ("arrivals", "fill_times", "patience", "active_durations", "waiting_exits", "active_exits", "detection",
           "hire_delay")


def streams(seed: int | np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """A Generator per quantity of STREAMS: child i of SeedSequence(seed) (spawn key (..., i)), for any seed."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # children built from the spawn key rather than root.spawn(): spawning mutates the root's counter, so a
    # SeedSequence passed twice would give different streams the second time
    return {name: np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i),
                                                               pool_size=root.pool_size))
            for i, name in enumerate(STREAMS)}


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
