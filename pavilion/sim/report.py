"""The study's written results: target parsing, best and Pareto-optimal points, report.md, and atomic folder output."""

from __future__ import annotations

import math
import operator
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pavilion.errors import InputError

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Target:
    """A constraint on one metric's mean, such as availability >= 0.95."""

    metric: str
    op: str
    value: float

    def met_by(self, mean: float) -> bool:
        """Whether a point's mean satisfies the target (an empty mean never does)."""
        return not math.isnan(mean) and _OPERATORS[self.op](mean, self.value)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def parse_target(text: str, metrics: Sequence[str]) -> Target:
    """Parse `METRIC>=VALUE` (also <=, >, <); the metric must be one of `metrics`."""
    match = _TARGET.match(text)
    if match is None:
        raise InputError(f"--target {text!r}: expected METRIC>=VALUE, for example availability>=0.95")
    metric, op, raw = match.groups()
    if metric not in metrics:
        raise InputError(f"--target {text!r}: unknown metric {metric!r} (known: {', '.join(metrics)})")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--target {text!r}: {raw!r} is not a number") from None
    return Target(metric, op, value)


def pareto_mask(summary: pd.DataFrame, maximise: str = "availability", minimise: str = "cost_usd") -> list[bool]:
    """True for points no other point beats: at least as good on both means and strictly better on one."""
    high = summary[f"{maximise}_mean"].to_numpy(dtype=float)
    low = summary[f"{minimise}_mean"].to_numpy(dtype=float)
    mask: list[bool] = []
    for i in range(len(summary)):
        if math.isnan(high[i]) or math.isnan(low[i]):
            mask.append(False)
            continue
        dominated = any(
            high[j] >= high[i] and low[j] <= low[i] and (high[j] > high[i] or low[j] < low[i])
            for j in range(len(summary))
            if j != i and not (math.isnan(high[j]) or math.isnan(low[j]))
        )
        mask.append(not dominated)
    return mask


def best_point(summary: pd.DataFrame, target: Target, minimise: str = "cost_usd") -> int | None:
    """Row position of the cheapest point whose mean meets the target (first in grid order on ties), or None."""
    best: int | None = None
    for i in range(len(summary)):
        if not target.met_by(float(summary[f"{target.metric}_mean"].iloc[i])):
            continue
        cost = float(summary[f"{minimise}_mean"].iloc[i])
        if math.isnan(cost):
            continue
        if best is None or cost < float(summary[f"{minimise}_mean"].iloc[best]):
            best = i
    return best


def closest_point(summary: pd.DataFrame, target: Target) -> int | None:
    """Row position of the point whose mean comes nearest the target from the wrong side (None if all are empty)."""
    means = summary[f"{target.metric}_mean"].to_numpy(dtype=float)
    if means.size == 0 or all(math.isnan(m) for m in means):
        return None
    wants_high = target.op in (">=", ">")
    return int(np.nanargmax(means) if wants_high else np.nanargmin(means))


def blank(value: object) -> bool:
    """A swept key the point's policy does not read (None; NaN once read back from CSV)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def point_label(row: Mapping[Any, Any], keys: Sequence[str]) -> str:
    """`policy.max_waiting=2, policy.name=pavilion`, or `(the scenario as given)` when nothing is swept; keys the
    point's policy does not read are left out."""
    return ", ".join(f"{key}={plain(row[key])}" for key in keys if not blank(row[key])) or "(the scenario as given)"


def plain(value: object) -> str:
    """A setting as the user typed it: 1, not 1.0 or np.int64(1) (a pandas row may have widened it to a float)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_mean(row: Mapping[Any, Any], metric: str, digits: int = 3) -> str:
    """`mean ± ci95` with `digits` significant figures; `empty` when no run had a value."""
    mean, half = float(row[f"{metric}_mean"]), float(row[f"{metric}_ci95"])
    if math.isnan(mean):
        return "empty"
    text = _significant(mean, digits)
    return text if math.isnan(half) else f"{text} ± {_significant(half, 2)}"


def _significant(value: float, digits: int) -> str:
    """`digits` significant figures, but whole numbers rather than exponents for large values (1480, not 1.48e+03)."""
    return f"{value:.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"


@dataclass(frozen=True)
class Study:
    """What report.md describes: the sweep's shape, its results, and the question asked of them."""

    scenario_name: str
    command: str
    keys: list[str]
    summary: pd.DataFrame
    replications: int
    seed: int
    horizon_s: float
    target: Target | None
    minimise: str = "cost_usd"
    plots: list[str] = field(default_factory=list)
    timeline_point: int = 0
    baseline: tuple[int | None, ...] | None = None
    independent: bool = False
    precision: str | None = None


TABLE_METRICS = ("availability", "full_ratio", "mean_active", "mean_waiting", "time_to_start_s", "cost_usd",
                 "cost_per_available_hour")


def summary_table(summary: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str] = TABLE_METRICS) -> pd.DataFrame:
    """A readable table: the swept keys, runs, and `mean ± ci95` for the headline metrics."""
    shown = [m for m in metrics if f"{m}_mean" in summary.columns]
    rows = [
        {**{key: "-" if blank(row[key]) else plain(row[key]) for key in keys}, "runs": row["runs"],
         **{m: format_mean(row, m) for m in shown}}
        for row in summary.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=[*keys, "runs", *shown])


def paired_table(summary: pd.DataFrame, keys: Sequence[str], base: Sequence[int | None],
                 metrics: Sequence[str] = TABLE_METRICS) -> pd.DataFrame:
    """Each point's paired difference against its baseline, `mean ± ci95`, starred where the CI excludes 0."""
    from pavilion.sim.paired import significant

    rows = summary.to_dict("records")
    shown = [m for m in metrics if f"{m}_diff_mean" in summary.columns]
    out = []
    for i, row in enumerate(rows):
        b = base[i]
        cells: dict[str, object] = {key: "-" if blank(row[key]) else plain(row[key]) for key in keys}
        cells["baseline"] = "(itself)" if b == i else "none in the grid" if b is None else point_label(rows[b], keys)
        for m in shown:
            mean, half = float(row[f"{m}_diff_mean"]), float(row[f"{m}_diff_ci95"])
            text = "empty" if math.isnan(mean) else _significant(mean, 3) + (
                "" if math.isnan(half) else f" ± {_significant(half, 2)}")
            cells[m] = text + (" *" if significant(mean, half) else "")
        out.append(cells)
    return pd.DataFrame(out, columns=[*keys, "baseline", *shown])


def _paired_section(study: Study) -> list[str]:
    if study.baseline is None:
        return []
    seeds = ("independent seeds (`--independent`): the pairs share nothing, so these intervals are as wide as "
             "unpaired ones" if study.independent else
             "common random numbers: replication r of every point ran with the same seed, so each difference is "
             "taken within a pair that saw the same crowd")
    return [
        "## Paired differences against the baseline (point minus baseline, mean ± 95% CI; * where it excludes 0)",
        "",
        f"Replication by replication, over the replications both ran; {seeds}. Every metric's difference is in "
        "summary.csv as `<metric>_diff_mean` and `<metric>_diff_ci95`.",
        "",
        _markdown_table(paired_table(study.summary, study.keys, study.baseline)),
        "",
    ]


def _markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pandas' own needs the optional `tabulate`)."""
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _verdict(study: Study) -> list[str]:
    """The answer to the user's target, in words."""
    rows = study.summary.to_dict("records")
    if study.target is None:
        return ["No target was given (`--target availability>=0.95`, for example), so no configuration is chosen."]
    best = best_point(study.summary, study.target, study.minimise)
    if best is None:
        lines = [f"**No configuration meets the target** `{study.target}` on its mean over "
                 f"{study.replications} replications."]
        near = closest_point(study.summary, study.target)
        if near is not None:
            lines += ["", f"Closest: `{point_label(rows[near], study.keys)}` with {study.target.metric} "
                          f"{format_mean(rows[near], study.target.metric)}. Larger queues, another policy or a busier "
                          "crowd (a higher arrival rate) may get there."]
        return lines
    row = rows[best]
    return [
        f"**Best configuration for `{study.target}`, minimising `{study.minimise}`:** "
        f"`{point_label(row, study.keys)}`",
        "",
        f"- {study.target.metric}: {format_mean(row, study.target.metric)} (mean ± 95% CI half-width)",
        f"- {study.minimise}: {format_mean(row, study.minimise)}",
        "",
        "The target is checked on the mean; if the confidence interval straddles the threshold, add replications.",
    ]


def _replications(study: Study) -> str:
    if study.precision is None:
        return f"{study.replications} replication(s)"
    runs = study.summary["runs"]
    return (f"{int(runs.min())}-{int(runs.max())} replications (from {study.replications}, added until "
            f"`{study.precision}` or the cap)")


def render_report(study: Study) -> str:
    """report.md: the question, the answer, the Pareto front, the summary table and the plots."""
    rows = study.summary.to_dict("records")
    mask = pareto_mask(study.summary, "availability", "cost_usd")
    pareto = [f"- `{point_label(rows[i], study.keys)}`: availability {format_mean(rows[i], 'availability')}, "
              f"cost_usd {format_mean(rows[i], 'cost_usd')}" for i in range(len(rows)) if mask[i]]
    lines = [
        f"# Pavilion simulation study: {study.scenario_name}",
        "",
        f"Command: `{study.command}`",
        "",
        f"{len(rows)} configuration(s) x {_replications(study)}, root seed {study.seed} "
        f"({'independent seeds per point' if study.independent else 'common random numbers across points'}), "
        f"horizon {study.horizon_s:g} s. Swept: {', '.join(f'`{k}`' for k in study.keys) or 'nothing'}.",
        "",
        "## Answer",
        "",
        *_verdict(study),
        "",
        "## Pareto-optimal configurations (availability up, cost_usd down)",
        "",
        *(pareto or ["- none (no configuration has both metrics)"]),
        "",
        "## Summary (mean ± 95% confidence half-width; every metric is in summary.csv)",
        "",
        _markdown_table(summary_table(study.summary, study.keys)),
        "",
        *_paired_section(study),
        "## Plots",
        "",
        *[f"![{Path(p).stem}]({p})" for p in study.plots],
        "",
        f"The queue-length plot shows replication 0 of `{point_label(rows[study.timeline_point], study.keys)}`.",
        "",
    ]
    return "\n".join(lines)


def check_out_dir(out: Path) -> None:
    """Refuse an output path that is a file (or a link to one) before anything runs."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, not a folder")
    ancestor = out.resolve().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"--out {out}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write in {ancestor}")


def write_atomically(out: Path, fill: Callable[[Path], None]) -> None:
    """Build the folder with `fill(tmp)` next to `out`, then swap it in; on failure nothing is left behind."""
    check_out_dir(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    old: Path | None = None
    try:
        fill(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
