"""Targets, Pareto front, best configuration, report.md and the atomic output folder, on synthetic summaries."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from pavilion.errors import InputError
from pavilion.sim.report import (
    Study,
    Target,
    best_point,
    closest_point,
    format_mean,
    pareto_mask,
    parse_target,
    render_report,
    write_atomically,
)

METRICS = ["availability", "cost_usd"]


def summary(avail: list[float], cost: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "policy.max_waiting": list(range(len(avail))), "runs": [5] * len(avail),
        "availability_mean": avail, "availability_ci95": [0.01] * len(avail), "availability_empty": [0] * len(avail),
        "cost_usd_mean": cost, "cost_usd_ci95": [0.5] * len(avail), "cost_usd_empty": [0] * len(avail),
    })


@pytest.mark.parametrize(("text", "expected"), [
    ("availability>=0.95", Target("availability", ">=", 0.95)),
    (" cost_usd < 12.5 ", Target("cost_usd", "<", 12.5)),
    ("availability>9e-1", Target("availability", ">", 0.9)),
])
def test_parse_target(text: str, expected: Target) -> None:
    assert parse_target(text, METRICS) == expected


@pytest.mark.parametrize(("text", "needle"), [
    ("availability=0.95", "expected METRIC>=VALUE"),
    ("uptime>=0.9", "unknown metric 'uptime'"),
    ("availability>=0.9.5", "not a number"),
    ("", "expected METRIC>=VALUE"),
])
def test_bad_targets_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_target(text, METRICS)


def test_target_is_never_met_by_an_empty_mean() -> None:
    assert not Target("availability", ">=", 0.0).met_by(math.nan)
    assert Target("availability", ">=", 0.95).met_by(0.95)


def test_pareto_front_and_best_point() -> None:
    # point 1 is dominated by point 2 (more available and cheaper); point 4 has no availability
    frame = summary([0.80, 0.85, 0.90, 0.97, math.nan], [10.0, 14.0, 12.0, 20.0, 1.0])
    assert pareto_mask(frame) == [True, False, True, True, False]
    assert best_point(frame, Target("availability", ">=", 0.95)) == 3
    assert best_point(frame, Target("availability", ">=", 0.85)) == 2
    assert best_point(frame, Target("availability", ">=", 0.99)) is None


def test_best_point_takes_the_first_on_ties() -> None:
    frame = summary([0.96, 0.97], [10.0, 10.0])
    assert best_point(frame, Target("availability", ">=", 0.95)) == 0


def test_format_mean() -> None:
    row = {"x_mean": 0.953123, "x_ci95": 0.0123, "y_mean": math.nan, "y_ci95": math.nan, "z_mean": 3.0,
           "z_ci95": math.nan}
    assert format_mean(row, "x") == "0.953 ± 0.012"
    assert format_mean(row, "y") == "empty"
    assert format_mean(row, "z") == "3"


def study(frame: pd.DataFrame, target: Target | None) -> Study:
    return Study("default", "pavilion simulate --sweep=policy.max_waiting=0,1", ["policy.max_waiting"], frame, 5, 1,
                 3600.0, target, "cost_usd", ["plots/availability_vs_cost.png"], 0)


def test_report_names_the_best_configuration() -> None:
    text = render_report(study(summary([0.80, 0.97, 0.99], [10.0, 20.0, 30.0]), Target("availability", ">=", 0.95)))
    assert "Best configuration for `availability >= 0.95`, minimising `cost_usd`:** `policy.max_waiting=1`" in text
    assert "![availability_vs_cost](plots/availability_vs_cost.png)" in text
    assert "| policy.max_waiting | runs | availability | cost_usd |" in text


def test_report_says_when_nothing_meets_the_target() -> None:
    text = render_report(study(summary([0.80, 0.90], [10.0, 20.0]), Target("availability", ">=", 0.95)))
    assert "No configuration meets the target" in text
    assert "Best configuration" not in text


def test_atomic_write_replaces_an_existing_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    write_atomically(out, lambda d: (d / "runs.csv").write_text("new"))
    assert sorted(p.name for p in out.iterdir()) == ["runs.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    def fail(folder: Path) -> None:
        (folder / "runs.csv").write_text("half")
        raise RuntimeError("plotting failed")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "results", fail)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_the_old_folder_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "runs.csv").write_text("old")
    with pytest.raises(RuntimeError):
        write_atomically(out, lambda d: (_ for _ in ()).throw(RuntimeError("boom")))
    assert (out / "runs.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "results"
    target.write_text("not a folder")
    with pytest.raises(InputError, match="is a file"):
        write_atomically(target, lambda d: None)
    assert target.read_text() == "not a folder"


def test_output_path_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_atomically(tmp_path / "file" / "deeper" / "results", lambda d: None)


def test_format_mean_writes_large_values_without_exponents() -> None:
    assert format_mean({"t_mean": 1480.4, "t_ci95": 763.0}, "t") == "1480 ± 763"
    assert format_mean({"t_mean": 0.0012345, "t_ci95": 0.00031}, "t") == "0.00123 ± 0.00031"


def test_report_names_the_closest_configuration_when_none_meets_the_target() -> None:
    text = render_report(study(summary([0.80, 0.90, 0.85], [10.0, 20.0, 30.0]), Target("availability", ">=", 0.95)))
    assert "Closest: `policy.max_waiting=1` with availability 0.9 ± 0.01" in text
    assert closest_point(summary([0.3, 0.1], [1.0, 2.0]), Target("availability", "<=", 0.05)) == 1
