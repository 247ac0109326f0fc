"""Study figures (matplotlib, no pyplot state): metrics against swept keys, availability against cost, queue lengths."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pavilion.sim.report import Target, blank, pareto_mask

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = 4


def _figure(width: float, height: float) -> Figure:
    """A figure drawn by the Agg canvas whatever backend is active (scripts, servers and notebooks alike)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _is_numeric(values: Sequence[object]) -> bool:
    return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)


def _short(row: pd.Series, keys: Sequence[str]) -> str:
    """`name=pavilion, hire_delay_s.value=120`: dotted keys without their table keep labels short."""
    return ", ".join(f"{k.split('.', 1)[-1]}={row[k]}" for k in keys if not blank(row[k]))


def metrics_against_key(summary: pd.DataFrame, key: str, keys: Sequence[str], metrics: Sequence[str]) -> Figure:
    """One panel per metric: its mean against `key` with 95% CI error bars, one line per setting of the other keys."""
    others = [k for k in keys if k != key]
    # points whose policy does not read `key` (a baseline) are drawn as dashed levels across the panel
    levels = summary[summary[key].map(blank)]
    summary = summary[~summary[key].map(blank)]
    xs = list(dict.fromkeys(summary[key].tolist()))
    numeric = _is_numeric(xs)
    rows = math.ceil(len(metrics) / COLUMNS)
    fig = _figure(4.0 * COLUMNS, 2.9 * rows)
    axes = fig.subplots(rows, COLUMNS, squeeze=False).ravel()
    groups = [frame for _, frame in summary.groupby(others, sort=False, dropna=False)] if others else [summary]
    spacing = float(np.min(np.diff(sorted(float(v) for v in xs)))) if numeric and len(xs) > 1 else 1.0
    for g, frame in enumerate(groups):
        label = _short(frame.iloc[0], others) or None
        offset = 0.05 * spacing * (g - 0.5 * (len(groups) - 1))  # side by side, so error bars do not hide each other
        x = np.array(frame[key].tolist(), dtype=float) if numeric else np.array([xs.index(v) for v in frame[key]])
        for ax, metric in zip(axes, metrics, strict=False):
            ax.errorbar(x + offset, frame[f"{metric}_mean"], yerr=frame[f"{metric}_ci95"].fillna(0.0),
                        marker="o", markersize=5, capsize=3, linewidth=1.2, label=label,
                        linestyle="-" if numeric else "none")  # categories have no order to draw a line along
    for _, row in levels.iterrows():
        for ax, metric in zip(axes, metrics, strict=False):
            ax.axhline(row[f"{metric}_mean"], linestyle="--", color="0.35", linewidth=1.2,
                       label=_short(row, others) or "baseline")
    for ax, metric in zip(axes, metrics, strict=False):
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel(key, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(v) for v in xs])
            ax.set_xlim(-0.5, len(xs) - 0.5)
        elif all(float(v).is_integer() for v in xs):
            ax.set_xticks([float(v) for v in xs])
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    if others or len(levels):
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=9)
    fig.suptitle(f"Metrics against {key} (mean and 95% CI)", fontsize=12)
    return fig


def availability_against_cost(summary: pd.DataFrame, keys: Sequence[str], target: Target | None = None,
                              best: int | None = None) -> Figure:
    """Each configuration's mean availability against its mean cost, CI bars both ways, the Pareto front marked.

    Points are coloured by the settings of every swept key but the last, and labelled with the last key's value.
    """
    fig = _figure(8.5, 5.5)
    ax = fig.subplots()
    cost, avail = summary["cost_usd_mean"].to_numpy(float), summary["availability_mean"].to_numpy(float)
    xerr, yerr = summary["cost_usd_ci95"].fillna(0.0), summary["availability_ci95"].fillna(0.0)
    groups, last = list(keys[:-1]), (keys[-1] if keys else None)
    frames = [f for _, f in summary.groupby(groups, sort=False, dropna=False)] if groups else [summary]
    for frame in frames:
        rows = frame.index.to_numpy()
        ax.errorbar(cost[rows], avail[rows], xerr=xerr.iloc[rows], yerr=yerr.iloc[rows], fmt="o", markersize=6,
                    capsize=3, elinewidth=1, alpha=0.85, label=_short(frame.iloc[0], groups) or "configuration")
    mask = np.array(pareto_mask(summary), dtype=bool)
    if mask.any():
        order = np.argsort(cost[mask])
        ax.plot(cost[mask][order], avail[mask][order], "-", color="tab:red", alpha=0.4, drawstyle="steps-post")
        ax.plot(cost[mask], avail[mask], "o", markersize=13, markerfacecolor="none", markeredgecolor="tab:red",
                markeredgewidth=1.8, label="Pareto-optimal", zorder=4)
    if best is not None:
        ax.plot([cost[best]], [avail[best]], "*", color="gold", markeredgecolor="black", markersize=18,
                label="best for target", zorder=5)
    if target is not None and target.metric == "availability":
        ax.axhline(target.value, linestyle="--", color="tab:green", linewidth=1, label=f"target {target}")
    if last is not None:
        for i in range(len(summary)):
            if not (math.isnan(cost[i]) or math.isnan(avail[i])):
                ax.annotate(str(summary[last].iloc[i]), (cost[i], avail[i]), textcoords="offset points",
                            xytext=(7, 4), fontsize=8, color="0.3")
    ax.set_xlabel("cost_usd per run (mean, 95% CI)")
    ax.set_ylabel("availability (mean, 95% CI)")
    ax.set_title("Availability against cost" + (f" (labels: {last})" if last else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def queue_lengths(timeline: pd.DataFrame, bounds: Mapping[str, int], title: str) -> Figure:
    """Active and waiting queue lengths over one replication, each panel with its queue's bounds.

    `bounds` holds min_active, max_active, min_waiting and max_waiting (a policy's queue sizes).
    """
    fig = _figure(10.0, 5.0)
    axes = fig.subplots(2, 1, sharex=True)
    hours = timeline["time_s"].to_numpy(float) / 3600.0
    for ax, queue, color in zip(axes, ("active", "waiting"), ("tab:blue", "tab:orange"), strict=True):
        counts = timeline[queue].to_numpy(float)
        ax.step(hours, counts, where="post", color=color, linewidth=1.1)
        ax.fill_between(hours, counts, step="post", color=color, alpha=0.2)
        low, high = bounds[f"min_{queue}"], bounds[f"max_{queue}"]
        ax.axhline(low, color="0.3", linestyle=":", linewidth=1, label=f"min_{queue} = {low}")
        ax.axhline(high, color="0.3", linestyle="--", linewidth=1, label=f"max_{queue} = {high}")
        top = int(max(np.max(counts, initial=0), high)) + 1
        ax.set_ylim(0, top + 0.3)
        ax.set_yticks(range(0, top + 1))
        ax.set_ylabel(f"{queue} workers")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right", ncols=2)
    axes[-1].set_xlabel("time (hours)")
    fig.suptitle(title, fontsize=10)
    return fig


def save(fig: Figure, path: Path) -> str:
    """Write the figure as a PNG and return its file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path.name

