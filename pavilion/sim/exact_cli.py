"""`pavilion simulate --exact`: each grid point's Markov chain solved, printed and written to DIR/exact.csv."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from pavilion.sim import Scenario
    from pavilion.sim.cli import Request
    from pavilion.sim.exact import ExactResult

SHOWN = ("availability", "full_ratio", "mean_active", "mean_waiting", "time_to_start_s", "mean_wait_s",
         "hire_rate_per_hour")


def exact_frame(scenario: Scenario, grid: dict[str, list[object]]) -> tuple[pd.DataFrame, ExactResult]:
    """One row per distinct grid point: the swept keys, `states` (the chain's size), every metric; and the last
    point's result (for its notes). Every point is checked Markovian before any chain is built."""
    from pavilion.sim import METRICS
    from pavilion.sim.exact import check_markovian, exact
    from pavilion.sim.sweep import grid_points, point_scenarios

    points = grid_points(scenario, grid)
    scenarios = point_scenarios(scenario, points)
    for point_scenario in scenarios:
        check_markovian(point_scenario)
    rows, result = [], None
    for point, point_scenario in zip(points, scenarios, strict=True):
        result = exact(point_scenario)
        rows.append({**point, "states": result.states, **{m: result.metrics[m] for m in METRICS}})
    assert result is not None
    frame = pd.DataFrame(rows, columns=[*grid, "states", *METRICS])
    for key in grid:  # object columns: a blank next to integers must not turn 1, 2 into 1.0, 2.0
        frame[key] = pd.Series([point[key] for point in points], dtype=object)
    return frame, result


def exact_command(request: Request, scenario: Scenario, command: str) -> int:
    """Solve, then write exact.csv, scenario.toml and report.md atomically, and print the table."""
    from pavilion.sim import scenario_to_toml
    from pavilion.sim.report import _markdown_table, write_atomically

    started = time.perf_counter()
    frame, result = exact_frame(scenario, request.grid)
    took = time.perf_counter() - started
    shown = frame[[*request.grid, "states", *SHOWN]].copy()
    for key in request.grid:
        shown[key] = shown[key].map(lambda v: "-" if v is None else v)
    for metric in SHOWN:
        shown[metric] = shown[metric].map(lambda v: f"{v:.4g}")
    grouped: dict[str, list[str]] = {}
    for metric, note in result.notes.items():
        if note != "stationary expectation":
            grouped.setdefault(note, []).append(f"`{metric}`")
    notes = [f"- {', '.join(names)}: {note}" for note, names in grouped.items()]
    report = "\n".join([
        f"# Pavilion exact study: {scenario.name}", "", f"Command: `{command}`", "",
        f"{len(frame)} configuration(s) solved as continuous-time Markov chains in {took:.3g} s (steady state; "
        "every metric is in exact.csv). Metrics not listed below are stationary expectations.", "",
        *notes, "", _markdown_table(shown), "",
    ])

    def fill(tmp: object) -> None:
        from pathlib import Path

        folder = Path(str(tmp))
        frame.to_csv(folder / "exact.csv", index=False)
        swept = "".join(f"# swept: {k} = {vs!r}\n" for k, vs in request.grid.items())
        (folder / "scenario.toml").write_text(swept + scenario_to_toml(scenario), encoding="utf-8")
        (folder / "report.md").write_text(report, encoding="utf-8")

    write_atomically(request.out, fill)
    print(shown.to_string(index=False))
    print(f"solved {len(frame)} chain(s) in {took:.3g} s; wrote {request.out}/: exact.csv scenario.toml report.md")
    return 0
