"""The study figures draw and save from synthetic summaries (their look is checked by eye, see README)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pavilion.sim.plots import availability_against_cost, metrics_against_key, queue_lengths, save
from pavilion.sim.report import Target

METRICS = ["availability", "cost_usd", "mean_waiting"]


def synthetic_summary() -> pd.DataFrame:
    rows = []
    for name in ("pavilion", "on-demand"):
        for mw in (1, 2, 3):
            row: dict[str, object] = {"policy.name": name, "policy.max_waiting": mw, "runs": 10}
            for i, metric in enumerate(METRICS):
                row[f"{metric}_mean"] = 0.5 + 0.1 * mw + i
                row[f"{metric}_ci95"] = 0.05
                row[f"{metric}_empty"] = 0
            rows.append(row)
    return pd.DataFrame(rows)


def test_metrics_against_each_key(tmp_path: Path) -> None:
    frame = synthetic_summary()
    keys = ["policy.name", "policy.max_waiting"]
    for key in keys:
        fig = metrics_against_key(frame, key, keys, METRICS)
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in visible] == METRICS
        assert len(visible[0].containers) == 2 if key == "policy.max_waiting" else 3  # one errorbar set per line
        name = save(fig, tmp_path / f"{key}.png")
        assert (tmp_path / name).stat().st_size > 10_000


def test_availability_against_cost_marks_the_pareto_front(tmp_path: Path) -> None:
    frame = synthetic_summary()
    fig = availability_against_cost(frame, ["policy.name", "policy.max_waiting"], Target("availability", ">=", 0.7), 1)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    expected = {"name=pavilion", "name=on-demand", "Pareto-optimal", "best for target", "target availability >= 0.7"}
    assert expected <= set(labels)
    save(fig, tmp_path / "a.png")


def test_queue_lengths(tmp_path: Path) -> None:
    t = np.arange(0, 7200, 300.0)
    timeline = pd.DataFrame({"time_s": t, "waiting": np.arange(len(t)) % 4, "active": np.minimum(np.arange(len(t)), 3)})
    fig = queue_lengths(timeline, {"min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3}, "one")
    assert [ax.get_ylabel() for ax in fig.axes] == ["active workers", "waiting workers"]
    assert fig.axes[1].get_xlabel() == "time (hours)"
    save(fig, tmp_path / "q.png")
