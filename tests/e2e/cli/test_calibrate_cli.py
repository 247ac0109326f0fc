"""`pavilion calibrate` end to end: logs in, a scenario `pavilion simulate` loads, a report; bad logs exit 2."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pavilion.cli import main
from pavilion.sim import load_scenario, simulate

SIMULATE_SMALL = ["--replications", "2", "--horizon", "3600", "--quiet"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("pilot")
    scenario = load_scenario(None, overrides={"workload.active_duration_s": {"dist": "weibull", "shape": 1.6,
                                                                             "scale": 700}})
    paths = []
    for seed in (1, 2):
        path = folder / f"events-{seed}.csv"
        simulate(scenario, seed, event_log=True).event_log.to_csv(path, index=False)
        paths.append(path)
    return paths


def test_calibrate_writes_a_scenario_simulate_loads_and_a_report(
    tmp_path: Path, logs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.toml"
    base.write_text('name = "study"\n[policy]\nmax_waiting = 2\n[payment]\nreward = 0.25\n', encoding="utf-8")
    out, report = tmp_path / "calibrated.toml", tmp_path / "report"
    code = main(["calibrate", *map(str, logs), "--scenario", str(base), "--out", str(out), "--report", str(report)])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Calibrated by `pavilion calibrate` from 2 event log(s)")
    assert "AIC: weibull" in text and str(logs[0]) in text
    data = tomllib.loads(text)
    assert (data["policy"]["max_waiting"], data["payment"]["reward"]) == (2, 0.25)  # from the base
    assert data["workload"]["active_duration_s"]["dist"] == "weibull"
    assert sorted(data["workload"]["active_exit"]) == ["abandoned", "returned", "submitted"]
    assert load_scenario(out).workload.arrivals.mode == "pooled"
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in (report / "plots").iterdir()) == [
        "km_active_duration_s.png", "km_waiting_patience_s.png", "qq_active_duration_s.png",
        "qq_waiting_patience_s.png"]
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "![km_active_duration_s.png](plots/km_active_duration_s.png)" in md and "| weibull (chosen) |" in md
    assert main(["simulate", str(out), *SIMULATE_SMALL, "--out", str(tmp_path / "study")]) == 0


def test_too_little_data_keeps_the_base_value_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "tiny.csv"
    log.write_text("time_s,worker,event,queue,detail\n0,,launched,,\n0,,hire,,6\n5,w1,joined,waiting,\n"
                   "60,w1,returned,waiting,socket\n", encoding="utf-8")
    out = tmp_path / "scenario.toml"
    assert main(["calibrate", str(log), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "waiting_patience_s: 1 waiting stints, 1 observed, 0 censored; kept from the base scenario " \
           "(1 waiting departures observed; at least 10 needed)" in text
    assert load_scenario(out).workload == load_scenario(None).workload


@pytest.mark.parametrize(("content", "problem"), [
    ("time_s,worker,event,queue\n0,,launched,\n", "row 1: missing column detail"),
    ("time_s,worker,event,queue,detail\n0,,launched,,\n3,w1,arrived,waiting,\n", "row 3: unknown event 'arrived'"),
    ("time_s,worker,event,queue,detail\n0,,launched,,\n9,w1,joined,waiting,\n3,w1,returned,waiting,\n",
     "row 4: time goes backwards"),
    ("time_s,worker,event,queue,detail\n0,,launched,,\n1,w1,joined,waiting,\n2,w1,returned,waiting,\n"
     "3,w1,abandoned,waiting,\n", "row 5: worker 'w1' leaves twice"),
])
def test_a_bad_log_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, logs: list[Path], content: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    out, report = tmp_path / "scenario.toml", tmp_path / "report"
    code = main(["calibrate", str(logs[0]), str(bad), "--out", str(out), "--report", str(report)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: {problem}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "s.toml")]) == 2
    assert "nope.csv: not found" in capsys.readouterr().err


def test_a_per_slot_base_gets_a_fitted_time_to_fill(tmp_path: Path) -> None:
    from pavilion.sim.presets import preset_path

    chorus = load_scenario(preset_path("chorus"))  # per-slot lognormal time_to_fill_s, mean 72 s, SD 87 s
    log = tmp_path / "events.csv"
    simulate(chorus, 3, event_log=True).event_log.to_csv(log, index=False)
    out = tmp_path / "scenario.toml"
    assert main(["calibrate", str(log), "--scenario", str(preset_path("chorus")), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    arrivals = load_scenario(out).workload.arrivals
    assert arrivals.mode == "per_slot" and arrivals.rate_per_hour is None and arrivals.time_to_fill_s is not None
    assert "hire_delay_s: kept from the base scenario (per-slot arrivals" in text
    assert "arrivals.time_to_fill_s: " in text and "AIC: " in text


def test_registering_the_command_imports_no_survival_library_yet() -> None:
    import subprocess
    import sys

    code = "import sys; import pavilion.cli as c; c.build_parser(); print('lifelines' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
