"""Invariants of observations over random simulated jobs: every worker accounted for once, open time conserved."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pavilion.sim import load_scenario, simulate
from pavilion.sim.calibration import observe, slot_rules
from pavilion.sim.calibration.arrivals import slot_counts, slot_spells
from pavilion.sim.calibration.fill import uniform_chooser

scenarios = st.fixed_dictionaries({
    "policy.name": st.sampled_from(["pavilion", "on-demand"]),
    "policy.max_waiting": st.integers(1, 3),
    "workload.arrivals.mode": st.sampled_from(["pooled", "per_slot"]),
    "workload.arrivals.rate_per_hour": st.floats(20, 120),
    "workload.hire_delay_s.value": st.sampled_from([0.0, 45.0]),
    "workload.waiting_patience_s.mean": st.floats(60, 900),
    "workload.abandoned_slot_reopens": st.sampled_from(["at_once", "at_deadline"]),
    "workload.assignment_duration_s": st.sampled_from([600.0, 1800.0]),
    "workload.abandon_detection_s.value": st.sampled_from([0.0, 30.0]),
    "run.horizon_s": st.sampled_from([1800.0, 5400.0]),
})


@settings(max_examples=40, deadline=None)
@given(overrides=scenarios, seed=st.integers(0, 2**32 - 1))
def test_each_worker_is_one_stint_and_open_time_is_the_same_however_matched(
    overrides: dict[str, object], seed: int
) -> None:
    scenario = load_scenario(None, overrides=overrides)
    log = simulate(scenario, seed, event_log=True).event_log
    assert log is not None
    obs = observe([log], slot_rules(scenario))
    events = log["event"]
    joined, rejected = int((events == "joined").sum()), int((events == "rejected").sum())
    promoted = int((events == "promoted").sum())
    on_demand = int(((events == "joined") & (log["queue"] == "active")).sum())
    # every admitted worker leaves, is censored, or (joined straight into active) has no patience at all
    assert obs.waiting_exits.total() + obs.active_exits.total() + obs.timeouts + obs.stopped + obs.present_at_end \
        == joined - rejected
    assert len(obs.active.times) <= promoted + on_demand
    assert obs.patience.events == obs.waiting_exits.total() and obs.active.events == obs.active_exits.total()
    assert all(t >= 0 for t in obs.patience.times + obs.active.times)
    job = obs.jobs[0]
    assert len(job.takes) == joined
    delay = scenario.workload.hire_delay_s.mean
    fifo = slot_spells(obs.jobs, delay)
    shuffled = slot_spells(obs.jobs, delay, uniform_chooser(np.random.default_rng(0)))
    counts = slot_counts(obs.jobs, delay)
    assert fifo.unmatched == counts.unmatched == 0  # the simulator's joins always find a slot under its own rules
    for spells in (fifo, shuffled):
        assert math.isclose(sum(spells.fill.times), counts.slot_time_s, rel_tol=1e-9, abs_tol=1e-6)
        assert spells.takes == counts.takes == joined
