"""Shorter rehearsals on the MTurk and Prolific emulators (30 scenario minutes at x60): the workers accept on the
emulator (MTurk: a HIT; Prolific: reserve and start), open the task link with the platform's parameters, return
through the platform, and the live metrics agree with the simulation of the platform's own slot rules.

Tolerance: five metrics, each against a 99.8% prediction interval (1% family-wise) for one live run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavilion.rehearsal import RehearsalRequest, rehearse

from .checks import assert_matches_the_driver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REQUIRED = ("availability", "mean_active", "mean_waiting", "hires", "submitted")


@pytest.mark.parametrize("platform", ["mturk", "prolific"])
def test_a_rehearsal_on_the_emulator_agrees(platform: str, tmp_path: Path) -> None:
    outcome = rehearse(RehearsalRequest(overrides={"run.horizon_s": 1800}, platform=platform, time_scale=60,
                                        seed=5, out=tmp_path, metrics=REQUIRED, level=0.99, sim_replications=500,
                                        quiet=True))
    assert {v.metric: v.agree for v in outcome.verdicts} == dict.fromkeys(REQUIRED, "yes"), outcome.verdicts
    (rep,) = outcome.replications
    assert_matches_the_driver(rep)
    assert rep.record.tally()["joined"] >= 3  # the job started
