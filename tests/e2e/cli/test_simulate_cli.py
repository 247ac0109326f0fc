"""`pavilion simulate` end to end: the study folder, same numbers whatever --jobs, and one-line errors on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pavilion.cli import main
from pavilion.sim import METRICS

SMALL = ["--replications", "3", "--horizon", "3600", "--quiet"]


def simulate(tmp_path: Path, *args: str, out: str = "out") -> tuple[int, Path]:
    code = main(["simulate", *SMALL, *args, "--out", str(tmp_path / out)])
    return code, tmp_path / out


def test_a_small_study_writes_the_whole_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = simulate(tmp_path, "--sweep", "policy.name=pavilion,on-demand", "--sweep", "policy.max_waiting=1,2",
                         "--target", "availability>=0.5")
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["plots", "report.md", "runs.csv", "scenario.toml", "summary.csv"]
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "availability_vs_cost.png", "metrics_vs_policy_max_waiting.png", "metrics_vs_policy_name.png",
        "queue_lengths.png"]
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == ["policy.name", "policy.max_waiting", "replication", "seed", *METRICS]
    assert len(runs) == 3 * 3  # on-demand reads no max_waiting: one baseline configuration
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 3 and summary["policy.max_waiting"].isna().tolist() == [False, False, True]
    assert {f"{m}_{s}" for m in METRICS for s in ("mean", "ci95", "empty")} <= set(summary.columns)
    report = (out / "report.md").read_text()
    assert "availability >= 0.5" in report and "![availability_vs_cost](plots/availability_vs_cost.png)" in report
    assert "# swept: policy.max_waiting = [1, 2]" in (out / "scenario.toml").read_text()
    printed = capsys.readouterr().out
    assert "availability" in printed and "on-demand" in printed
    table = [line.split()[:2] for line in printed.splitlines() if line.split()[:1] == ["on-demand"]]
    assert table == [["on-demand", "-"]]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left next to it


def test_same_seed_same_numbers_whatever_jobs(tmp_path: Path) -> None:
    grid = ["--sweep", "policy.max_waiting=1,2,3"]
    assert simulate(tmp_path, *grid, "--jobs", "1", out="serial")[0] == 0
    assert simulate(tmp_path, *grid, "--jobs", "2", out="parallel")[0] == 0
    for name in ("runs.csv", "summary.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes()


def test_a_second_run_replaces_the_folder(tmp_path: Path) -> None:
    assert simulate(tmp_path)[0] == 0
    (tmp_path / "out" / "stale.txt").write_text("from before")
    assert simulate(tmp_path, "--seed", "2")[0] == 0
    assert not (tmp_path / "out" / "stale.txt").exists()
    assert pd.read_csv(tmp_path / "out" / "runs.csv").shape[0] == 3


def test_a_preset_runs(tmp_path: Path) -> None:
    code, out = simulate(tmp_path, "--preset", "chorus")
    assert code == 0
    assert "name = " in (out / "scenario.toml").read_text()


BAD = [
    (["--set", "policy.no_such_key=1"], "policy.no_such_key"),
    (["--sweep", "workload.nope=1,2"], "workload.nope"),
    (["--sweep", "policy.max_waiting"], "--sweep"),
    (["--sweep", "policy.max_waiting=1,,2"], "--sweep"),
    (["--sweep", "policy.max_waiting=-1,2"], "policy.max_waiting"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
    (["--scheduler", "nonsense"], "--scheduler"),
    (["--preset", "nope"], "--preset"),
    (["--target", "availability=0.9"], "--target"),
    (["--jobs", "0"], "--jobs"),
    (["--replications", "two"], "--replications"),
    (["--horizon", "-5"], "--horizon"),
    (["missing.toml"], "missing.toml"),
    (["--set", "workload.assignment_duration_s=0"], "workload.assignment_duration_s"),
    (["--set", "workload.abandoned_slot_reopens=never"], "workload.abandoned_slot_reopens"),
    (["--set", "workload.assignment_duration_s=inf"], "would never re-open"),
    (["--set", 'workload.arrivals.time_to_fill_s={dist="constant", value=5}'], "workload.arrivals.time_to_fill_s"),
    (["--set", "workload.asignment_duration_s=60"], "workload.asignment_duration_s"),
    (["--sweep", "policy.name=pavilion,on-demand", "--baseline", "policy.max_waiting=2"], "policy.max_waiting"),
    (["--sweep", "policy.name=pavilion,on-demand", "--baseline", "policy.name=nope"], "policy.name=nope"),
    (["--sweep", "policy.name=pavilion,on-demand", "--baseline", "policy.name"], "--baseline"),
    (["--sweep", "policy.max_waiting=1,2", "--sweep", "policy.name=pavilion,on-demand",
      "--baseline", "policy.name=pavilion,policy.max_waiting=5"], "policy.max_waiting=5 is not a grid point"),
    (["--precision", "availabilty=0.01"], "availabilty"),
    (["--precision", "availability=-1"], "--precision"),
    (["--precision", "availability"], "--precision"),
    (["--max-replications", "50"], "--max-replications"),
    (["--exact"], "workload.assignment_duration_s"),
    (["--exact", "--set", "workload.assignment_duration_s=inf", "--set", "workload.abandoned_slot_reopens=at_once"],
     "workload.abandon_detection_s"),
    (["--exact", "--baseline", "policy.name=on-demand"], "--exact"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("args", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    code, out = simulate(tmp_path, *args)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("pavilion: error: ") and err.count("\n") == 1 and named in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").write_text("keep me")
    code, _ = simulate(tmp_path)
    assert code == 2 and "is a file" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "keep me" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.timeout(60)
def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pavilion.cli", "simulate", "--sweep", "policy.bogus=1", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "policy.bogus" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_scheduler_flag_runs_on_a_dask_cluster_with_the_same_numbers(tmp_path: Path) -> None:
    from distributed import LocalCluster

    grid = ["--sweep", "policy.max_waiting=1,2"]
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        assert simulate(tmp_path, *grid, "--scheduler", cluster.scheduler_address, out="dask")[0] == 0
    assert simulate(tmp_path, *grid, out="serial")[0] == 0
    for name in ("runs.csv", "summary.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
