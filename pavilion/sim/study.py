"""The study folder of `pavilion simulate`: runs.csv, summary.csv, scenario.toml, plots/ and report.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from pavilion.sim import Scenario
    from pavilion.sim.cli import Request
    from pavilion.sim.sweep import SweepResult


@dataclass(frozen=True)
class Timeline:
    """Queue lengths over time of replication 0 of one point, re-run with the same seed as in runs.csv."""

    point: int
    scenario: Scenario
    frame: pd.DataFrame


def timeline_of(scenario: Scenario, grid: dict[str, list[object]], point: int, independent: bool = False) -> Timeline:
    """Re-run replication 0 of `point` with its timeline recorded (one extra run, not one per replication)."""
    from pavilion.sim import simulate
    from pavilion.sim.sweep import grid_points, run_seed

    values = {k: v for k, v in grid_points(scenario, grid)[point].items() if v is not None}
    point_scenario = scenario.with_overrides(values) if values else scenario
    result = simulate(point_scenario, run_seed(int(scenario.run.seed), point, 0, independent),
                      timeline=True)
    if result.timeline is None:
        raise RuntimeError("simulate(timeline=True) returned no timeline")
    return Timeline(point, point_scenario, result.timeline)


def write_study(tmp: Path, request: Request, scenario: Scenario, result: SweepResult, timeline: Timeline,
                best: int | None, command: str) -> None:
    """Fill the (temporary) output folder: CSVs, the scenario, the plots and report.md."""
    from pavilion.sim import METRICS, scenario_to_toml
    from pavilion.sim.plots import availability_against_cost, metrics_against_key, queue_lengths, save
    from pavilion.sim.report import Study, point_label, render_report

    keys = list(request.grid)
    result.runs.to_csv(tmp / "runs.csv", index=False)
    result.summary.to_csv(tmp / "summary.csv", index=False)
    swept = "".join(f"# swept: {k} = {vs!r}\n" for k, vs in request.grid.items())
    (tmp / "scenario.toml").write_text(swept + scenario_to_toml(scenario), encoding="utf-8")
    plots = [save(metrics_against_key(result.summary, k, keys, list(METRICS)),
                  tmp / "plots" / f"metrics_vs_{k.replace('.', '_')}.png") for k in keys]
    plots.append(save(availability_against_cost(result.summary, keys, request.target, best),
                      tmp / "plots" / "availability_vs_cost.png"))
    label = point_label(result.summary.iloc[timeline.point].to_dict(), keys)
    policy = timeline.scenario.policy
    bounds = {k: getattr(policy, k) for k in ("min_active", "max_active", "min_waiting", "max_waiting")}
    plots += regime_maps(tmp, result, keys)
    plots.append(save(queue_lengths(timeline.frame, bounds, f"Queue lengths, replication 0 of {label}"),
                      tmp / "plots" / "queue_lengths.png"))
    study = Study(scenario.name, command, keys, result.summary,
                  int(scenario.run.replications), int(scenario.run.seed), float(scenario.run.horizon_s),
                  request.target, request.minimise, [f"plots/{name}" for name in plots], timeline.point,
                  result.baseline, request.independent,
                  None if request.precision is None else f"--precision {request.precision}")
    (tmp / "report.md").write_text(render_report(study), encoding="utf-8")


def regime_maps(tmp: Path, result: SweepResult, keys: list[str]) -> list[str]:
    """`plots/map_<metric>.png` (and `map_<metric>_diff.png` with a baseline) when two numeric keys are swept."""
    from pavilion.sim.maps import map_keys, regime_map
    from pavilion.sim.plots import save
    from pavilion.sim.report import TABLE_METRICS

    axes = map_keys(result.summary, keys)
    if axes is None:
        return []
    names: list[str] = []
    for metric in TABLE_METRICS:
        for base, suffix in ((None, ""), (result.baseline, "_diff")):
            if suffix and base is None:
                continue
            fig = regime_map(result.summary, keys, *axes, metric, base)
            if fig is not None:
                names.append(save(fig, tmp / "plots" / f"map_{metric}{suffix}.png"))
    return names
