"""The driver's draws and the comparison's intervals, checked against theory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pavilion.rehearsal.compare import compare, interval, per_metric_level
from pavilion.rehearsal.plan import plan
from pavilion.rehearsal.scaling import scale
from pavilion.sim import load_scenario


def test_arrivals_are_poisson_at_the_scaled_rate() -> None:
    # 200 plans of the default at x60: 48/h x 8 h = 384 arrivals each; the mean of 200 Poisson counts has sd
    # sqrt(384 / 200) = 1.39, so 5 sd is 6.9.
    scenario = scale(load_scenario(None), 60, "local").scenario
    counts = [len(plan(scenario, s)) for s in np.random.SeedSequence(3).spawn(200)]
    assert abs(np.mean(counts) - 384) < 6.9
    assert np.var(counts) == pytest.approx(384, rel=0.35)  # Poisson: variance = mean (loose: 200 samples)


def test_the_draws_follow_the_scenario() -> None:
    scenario = scale(load_scenario(None), 60, "local").scenario
    workers = [w for s in np.random.SeedSequence(4).spawn(20) for w in plan(scenario, s)]  # ~7,700 workers
    patience = np.array([w.patience_s for w in workers])
    assert patience.mean() == pytest.approx(10.0, rel=0.05)  # exponential, mean 600 s / 60; sd of mean ~1.1%
    shares = pd.Series([w.active_exit for w in workers]).value_counts(normalize=True)
    assert shares["submitted"] == pytest.approx(0.8, abs=0.025)  # binomial sd 0.0046
    assert all(0 <= w.arrive_s < scenario.run.horizon_s for w in workers)
    assert plan(scenario, np.random.SeedSequence(9)) == plan(scenario, np.random.SeedSequence(9))  # same seed


def test_a_value_from_the_simulated_distribution_lands_inside_at_the_stated_level() -> None:
    # Coverage: 2,000 "live" draws from the same normal as a 2,000-draw pool; 95% intervals for a single run and
    # for the mean of 4 runs. Binomial sd of the coverage over 2,000 trials is 0.5%; tolerance 2%.
    rng = np.random.default_rng(5)
    pool = rng.normal(0.0, 1.0, 2000)
    for replications in (1, 4):
        low, high = interval(pool, replications, 0.95, np.random.default_rng(6))
        live = rng.normal(0.0, 1.0, (2000, replications)).mean(axis=1)
        assert np.mean((live >= low) & (live <= high)) == pytest.approx(0.95, abs=0.02)


def test_verdicts_and_bonferroni() -> None:
    assert per_metric_level(0.95, 5) == pytest.approx(0.99)
    pool = pd.DataFrame({"a": np.linspace(0, 1, 1001), "b": np.full(1001, np.nan)})
    verdicts = {v.metric: v for v in compare([{"a": 0.5, "b": np.nan}, {"a": 0.6, "b": np.nan}], pool,
                                             ["a", "b"], 0.9)}
    assert verdicts["a"].agree == "yes" and verdicts["a"].live_mean == pytest.approx(0.55)
    assert verdicts["b"].agree == "n/a"
    assert compare([{"a": 1.5}], pool, ["a"], 0.9)[0].agree == "no"


def test_an_unmodelled_metric_is_reported_without_a_verdict() -> None:
    pool = pd.DataFrame({"rejected": np.arange(0.0, 50.0)})
    (verdict,) = compare([{"rejected": 0.0}], pool, ["rejected"], 0.9, unmodelled=["rejected"])
    assert verdict.agree == "not modelled" and verdict.live_mean == 0.0 and verdict.sim_mean == pytest.approx(24.5)
