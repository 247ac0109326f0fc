"""A rehearsal with the server killed (-9) and restarted mid-run: no worker is lost and nobody is paid twice,
checked against the driver's own record of who joined, who left how, and who submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavilion.rehearsal import RehearsalRequest, rehearse

from .checks import assert_matches_the_driver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_a_server_killed_mid_run_loses_no_worker_and_pays_no_one_twice(tmp_path: Path) -> None:
    # 40 scenario minutes at x60; a kill every 15 scenario minutes = every 15 s of the run: two kills.
    outcome = rehearse(RehearsalRequest(overrides={"run.horizon_s": 2400}, platform="local", time_scale=60,
                                        seed=3, out=tmp_path, metrics=("submitted",), sim_replications=100,
                                        kill_server_every_s=900, quiet=True))
    (rep,) = outcome.replications
    assert rep.kills >= 1
    assert_matches_the_driver(rep, unanswered_ok=True)
    assert rep.record.tally()["reconnects"] >= 1  # the pages did come back to the restarted server
    assert "| kills |" in (tmp_path / "report.md").read_text()
