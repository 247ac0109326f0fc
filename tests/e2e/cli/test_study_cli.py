"""`pavilion simulate` as a researcher's study: report.md's command reproduces it, baselines, precision, maps."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from pavilion.cli import main
from pavilion.sim import METRICS


def _command(report: Path) -> list[str]:
    match = re.search(r"^Command: `(.+)`$", report.read_text(), flags=re.MULTILINE)
    assert match is not None
    return shlex.split(match.group(1))


def _rerun(command: list[str], out: Path) -> int:
    assert command[:2] == ["pavilion", "simulate"]
    args = [a for a in command[2:] if not a.startswith("--out=")]
    return main(["simulate", *args, "--out", str(out), "--quiet"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("extra", [
    ["--baseline", "policy.name=on-demand", "--minimise", "hires", "--target", "availability>=0.5"],
    ["--independent", "--precision", "availability=0.04", "--max-replications", "9"],
])
def test_the_report_command_run_as_printed_rewrites_the_same_runs(tmp_path: Path, extra: list[str]) -> None:
    first = tmp_path / "first"
    # a second swept key (blank for on-demand) only where the baseline needs a grid to pair over: plots take time
    keys = ["--sweep", "policy.max_waiting=1,3"] if "--baseline" in extra else []
    args = ["--sweep", "policy.name=pavilion,on-demand", *keys,
            "--set", "run.warmup_s=600", "--set", "run.horizon_s=5400", "--set", "payment.reward=0.25",
            "--set", 'workload.hire_delay_s={dist="exponential", mean=20}', "--replications", "3", "--seed", "9"]
    assert main(["simulate", *args, *extra, "--out", str(first), "--quiet"]) == 0
    command = _command(first / "report.md")
    assert "--set=run.warmup_s=600" in command and "--set=payment.reward=0.25" in command
    assert all(flag in " ".join(command) for flag in extra if flag.startswith("--"))
    assert _rerun(command, tmp_path / "again") == 0
    assert (first / "runs.csv").read_bytes() == (tmp_path / "again" / "runs.csv").read_bytes()
    assert (first / "summary.csv").read_bytes() == (tmp_path / "again" / "summary.csv").read_bytes()


def test_best_for_prints_integer_settings_as_integers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--sweep", "policy.min_waiting=0,1", "--replications", "2", "--horizon", "3600",
                 "--target", "availability>=0", "--quiet", "--out", str(tmp_path / "o")])
    assert code == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("best for"))
    assert re.search(r"policy\.min_waiting=[01]$", line), line


def test_a_baseline_adds_documented_difference_columns_and_a_report_section(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code = main(["simulate", "--sweep", "policy.name=pavilion,on-demand", "--replications", "3", "--horizon", "3600",
                 "--baseline", "policy.name=on-demand", "--quiet", "--out", str(out)])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert {f"{m}_diff_{s}" for m in METRICS for s in ("mean", "ci95")} <= set(summary.columns)
    assert summary["cost_usd_diff_mean"].iloc[1] == 0.0
    report = (out / "report.md").read_text()
    assert "## Paired differences against the baseline" in report and "(itself)" in report


def test_precision_adds_replications_until_the_half_width_is_met(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code = main(["simulate", "--sweep", "policy.name=pavilion,on-demand", "--replications", "3", "--horizon", "7200",
                 "--precision", "availability=0.03", "--quiet", "--out", str(out)])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["availability_ci95"] < 0.03).all() and (summary["runs"] > 3).all()
    runs = pd.read_csv(out / "runs.csv")
    for _, group in runs.groupby("policy.name"):
        assert group["replication"].tolist() == list(range(len(group)))


def test_precision_stops_at_the_cap(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code = main(["simulate", "--replications", "2", "--horizon", "3600", "--precision", "availability=1e-9",
                 "--max-replications", "7", "--quiet", "--out", str(out)])
    assert code == 0
    assert pd.read_csv(out / "summary.csv")["runs"].tolist() == [7]


def test_exact_solves_every_point_and_writes_exact_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    code = main(["simulate", "--exact", "--set", "workload.assignment_duration_s=inf",
                 "--set", "workload.abandoned_slot_reopens=at_once",
                 "--set", 'workload.abandon_detection_s={dist="exponential", mean=30}',
                 "--sweep", "policy.name=pavilion,on-demand", "--sweep", "policy.max_waiting=1,3", "--out", str(out)])
    assert code == 0
    frame = pd.read_csv(out / "exact.csv")
    assert list(frame.columns) == ["policy.name", "policy.max_waiting", "states", *METRICS] and len(frame) == 3
    assert frame["availability"].between(0, 1).all() and frame["cost_usd"].isna().all()
    assert "--exact" in _command(out / "report.md")
    assert "solved 3 chain(s)" in capsys.readouterr().out


@pytest.mark.timeout(120)
def test_two_numeric_keys_give_regime_maps_and_difference_maps(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code = main(["simulate", "--sweep", "policy.name=pavilion,on-demand", "--sweep",
                 "workload.arrivals.rate_per_hour=24,48", "--sweep", "workload.hire_delay_s.value=0,300",
                 "--baseline", "policy.name=on-demand", "--replications", "2", "--horizon", "3600", "--quiet",
                 "--out", str(out)])
    assert code == 0
    names = {p.name for p in (out / "plots").iterdir()}
    assert {"map_availability.png", "map_availability_diff.png", "map_cost_usd_diff.png"} <= names
    assert "![map_availability_diff](plots/map_availability_diff.png)" in (out / "report.md").read_text()
