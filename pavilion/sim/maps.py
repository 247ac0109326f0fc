"""Regime maps: a metric (or its paired difference against a baseline) as a heat map over two swept numeric keys."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pavilion.sim.paired import significant
from pavilion.sim.plots import _figure, _is_numeric, _short
from pavilion.sim.report import blank, plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def map_keys(summary: pd.DataFrame, keys: Sequence[str]) -> tuple[str, str] | None:
    """(x, y): the two swept keys with numeric values (x the one varying fastest), when exactly two have more
    than one value; None otherwise."""
    numeric = []
    for key in keys:
        values = [v for v in dict.fromkeys(summary[key].tolist()) if not blank(v)]
        if len(values) > 1 and _is_numeric(values):
            numeric.append(key)
    return (numeric[1], numeric[0]) if len(numeric) == 2 else None


def _panels(summary: pd.DataFrame, keys: Sequence[str], x: str, y: str) -> list[pd.DataFrame]:
    """One frame per setting of the other swept keys, keeping only points that set both map keys."""
    others = [k for k in keys if k not in (x, y)]
    rows = summary[~summary[x].map(blank) & ~summary[y].map(blank)]
    if not others:
        return [rows] if len(rows) else []
    return [frame for _, frame in rows.groupby(others, sort=False, dropna=False)]


def regime_map(summary: pd.DataFrame, keys: Sequence[str], x: str, y: str, metric: str,
               base: Sequence[int | None] | None = None) -> Figure | None:
    """Heat maps of `metric`'s mean over (x, y), one panel per setting of the other keys, each cell annotated with
    mean ± 95% CI. With `base`, the paired difference against each point's baseline instead: a diverging scale
    centred on 0, '*' and a solid edge where the CI excludes 0, hatching where it does not; panels that are their
    own baseline are left out. None when there is nothing to draw."""
    from matplotlib.colors import TwoSlopeNorm

    diff = base is not None
    suffix = "_diff" if diff else ""
    panels = _panels(summary, keys, x, y)
    if diff:
        assert base is not None
        panels = [p for p in panels if any(base[i] is not None and base[i] != i for i in p.index)]
    if not panels:
        return None
    xs = sorted({float(v) for v in summary[x] if not blank(v)})
    ys = sorted({float(v) for v in summary[y] if not blank(v)})
    fig = _figure(0.9 + 1.25 * len(xs) * len(panels) + 1.2 * len(panels), 1.2 + 0.75 * len(ys))
    axes = np.atleast_1d(fig.subplots(1, len(panels), squeeze=False).ravel())
    values = pd.concat(panels)[f"{metric}{suffix}_mean"].to_numpy(float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if diff:
        reach = max(abs(low), abs(high), 1e-12)
        norm, cmap = TwoSlopeNorm(0.0, -reach, reach), "RdBu_r"
    else:
        norm, cmap = None, "viridis"
    others = [k for k in keys if k not in (x, y)]
    image = None
    for ax, panel in zip(axes, panels, strict=True):
        grid = np.full((len(ys), len(xs)), math.nan)
        half = np.full_like(grid, math.nan)
        for _, row in panel.iterrows():
            i, j = ys.index(float(row[y])), xs.index(float(row[x]))
            grid[i, j], half[i, j] = float(row[f"{metric}{suffix}_mean"]), float(row[f"{metric}{suffix}_ci95"])
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, norm=norm,
                          vmin=None if diff else low, vmax=None if diff else high)
        _annotate(ax, grid, half, diff)
        ax.set_xticks(range(len(xs)), [plain(v) for v in xs], fontsize=8)
        ax.set_yticks(range(len(ys)), [plain(v) for v in ys], fontsize=8)
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(y, fontsize=8)
        ax.set_title(_short(panel.iloc[0], others) or metric, fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.9, label=f"{metric}{' difference' if diff else ''}")
    what = f"{metric} minus baseline (* : 95% CI excludes 0; hatched: it does not)" if diff \
        else f"{metric}: mean ± 95% CI"
    fig.suptitle(what, fontsize=10)
    return fig


def _annotate(ax: Axes, grid: np.ndarray, half: np.ndarray, diff: bool) -> None:
    from matplotlib.patches import Rectangle

    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            mean, h = grid[i, j], half[i, j]
            if math.isnan(mean):
                continue
            text = f"{mean:.3g}" + ("" if math.isnan(h) else f"\n±{h:.2g}")
            if diff and significant(mean, h):
                text += " *"
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5))
            elif diff:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", edgecolor="0.5",
                                       linewidth=0))
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="black", bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.6,
                                         "linewidth": 0})
