"""The default scenario rehearsed on the local platform for two minutes (two scenario hours at x60): the live
server's metrics fall inside the simulated intervals, and the server's log matches the driver's own record.

Tolerance: five metrics, each against a 99.8% prediction interval (1% family-wise, Bonferroni) for one live run,
from 1,000 simulated replications of the same scaled scenario; a live system that behaves as the model fails
this test at most once in a hundred runs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pavilion.rehearsal import RehearsalRequest, rehearse

from .checks import assert_matches_the_driver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

REQUIRED = ("availability", "mean_active", "mean_waiting", "hires", "submitted")


def test_the_default_scenario_on_the_local_platform_agrees(tmp_path: Path) -> None:
    out = tmp_path / "rehearsal"
    outcome = rehearse(RehearsalRequest(overrides={"run.horizon_s": 7200}, platform="local", time_scale=60,
                                        seed=11, out=out, metrics=REQUIRED, level=0.99, sim_replications=1000,
                                        quiet=True))
    rows = {row["metric"]: row for row in csv.DictReader((out / "rehearsal.csv").open())}
    assert set(rows) == set(REQUIRED)
    assert {m: rows[m]["agree"] for m in REQUIRED} == dict.fromkeys(REQUIRED, "yes"), rows
    assert outcome.exit_status == 0
    assert (out / "report.md").read_text().count("| yes |") == len(REQUIRED)
    assert (out / "plots" / "queues_live_vs_sim.png").stat().st_size > 10_000
    assert (out / "events-1.csv").is_file()

    (rep,) = outcome.replications
    assert_matches_the_driver(rep)
    assert rep.record.tally()["joined"] > 10  # the run had something to measure
