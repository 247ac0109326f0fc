"""plots/queues_live_vs_sim.png: live queue lengths over the simulated 5-95% band, in unscaled hours."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pavilion.rehearsal.livelog import read, timeline
from pavilion.sim import simulate

if TYPE_CHECKING:
    from pavilion.rehearsal.run import RehearsalOutcome

BAND_RUNS = 200
GRID_POINTS = 400


def _on_grid(line: pd.DataFrame, grid: np.ndarray, queue: str) -> np.ndarray:
    """A step function (value from each time on) read at the grid's times."""
    times = line["time_s"].to_numpy(float)
    values = line[queue].to_numpy(float)
    index = np.searchsorted(times, grid, side="right") - 1
    return values[np.clip(index, 0, len(values) - 1)]


def queues_live_vs_sim(path: Path, outcome: RehearsalOutcome) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scenario, k = outcome.scaled.scenario, outcome.scaled.factor
    horizon = scenario.run.horizon_s
    grid = np.linspace(0.0, horizon, GRID_POINTS, endpoint=False)
    seeds = np.random.SeedSequence(scenario.run.seed + 7919).spawn(BAND_RUNS)
    sims = [simulate(scenario, s, timeline=True).timeline for s in seeds]
    fig = Figure(figsize=(10.0, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1, sharex=True)
    hours = grid * k / 3600.0
    for ax, queue, color in zip(axes, ("active", "waiting"), ("tab:blue", "tab:orange"), strict=True):
        band = np.array([_on_grid(line, grid, queue) for line in sims if line is not None])
        low, high = np.percentile(band, [5, 95], axis=0)
        ax.fill_between(hours, low, high, step="post", color="0.8", label="simulated 5-95%")
        ax.step(hours, band.mean(axis=0), where="post", color="0.4", linewidth=0.8, label="simulated mean")
        for number, rep in enumerate(outcome.replications, start=1):
            live = _on_grid(timeline(read(rep.events_csv)), grid, queue)
            ax.step(hours, live, where="post", color=color, linewidth=1.1, alpha=0.9,
                    label="live" if number == 1 else None)
        ax.set_ylabel(f"{queue} workers")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right", ncols=3)
    axes[-1].set_xlabel("time (hours, unscaled)")
    fig.suptitle(f"{scenario.name}: live queue lengths against the simulation (time x{k:g})", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
