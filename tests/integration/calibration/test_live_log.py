"""Calibrating from a live log: a simulated job's workers replayed through the real runtime, its events.csv exported.

The runtime's policy service decides everything the policy decides (hires, promotions, rejections, the stop), from
the same core, and logs it in its own way: times to the millisecond, departure sources (socket, presence,
timeout), submissions that trickle in after the stop. Calibrating that export must give what calibrating the
simulator's own log of the same job gives. (A rehearsal's log is the same export, driven over the wire.)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from pavilion.errors import InputError
from pavilion.runtime.app import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.eventlog import event_csv
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.projects import parse_project
from pavilion.sim import load_scenario, simulate
from pavilion.sim.calibration import calibrate, slot_rules
from pavilion.sim.calibration.observations import observe_rows, read_event_log

# Slot rules the local platform shares: an abandoned place re-opens when the departure is recorded.
SCENARIO = load_scenario(None, overrides={
    "workload.abandon_detection_s": {"dist": "constant", "value": 0}, "workload.abandoned_slot_reopens": "at_once",
    "workload.assignment_duration_s": math.inf, "workload.arrivals.rate_per_hour": 60, "run.horizon_s": 7200,
    "workload.active_duration_s": {"dist": "weibull", "shape": 1.4, "scale": 700},
})
SOURCES = {"submitted": "socket", "returned": "socket", "abandoned": "presence"}
LAUNCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = LAUNCH

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = create_app({
        "INSTANCE_PATH": str(tmp_path), "ENV": "testing", "SECRET_KEY": "test-secret", "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "ASYNC_MODE": "threading", "CLOCK": clock,
    })
    yield app
    get_runtime(app).shutdown()


def replay(app: Flask, clock: Clock, log: pd.DataFrame) -> str:
    """Each simulated worker's own doings (arriving, leaving) done on the live service; its events.csv."""
    runtime = get_runtime(app)
    service = runtime.service
    project_id = service.create_project(parse_project({
        "name": "Replay", "platform": {"name": "local"},
        "policy": {"name": "pavilion", "min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3},
        "pay": {"reward": "0.10", "waiting_wage_per_hour": "7.25", "active_wage_per_hour": "12"},
        "task": {"title": "Steer", "url": "https://task.test/live"},
    }))
    keys: dict[str, str] = {}
    stopped = False
    for row in log.itertuples(index=False):
        clock.now = LAUNCH + timedelta(seconds=float(row.time_s) + (2.0 if stopped else 0.0))
        if row.event == "launched":
            service.launch(project_id)
        elif row.event == "joined":
            keys[row.worker] = service.join(project_id, Identity(f"lab-{row.worker}", f"a-{row.worker}")).assignment_key
        elif row.event == "stop":
            service.stop(project_id)
            stopped = True  # the pages submit a moment after the stop reaches them
        elif row.event in SOURCES:
            service.depart(project_id, keys[row.worker], row.event, source="stop" if stopped else SOURCES[row.event])
    with runtime.db.session_scope() as session:
        return event_csv(session, project_id)


def test_the_live_export_calibrates_as_the_simulators_log(app: Flask, clock: Clock, tmp_path: Path) -> None:
    log = simulate(SCENARIO, 5, event_log=True).event_log
    assert log is not None
    live = tmp_path / "events.csv"
    live.write_text(replay(app, clock, log), encoding="utf-8")
    exported = pd.read_csv(live, keep_default_na=False)
    assert set(exported["detail"][exported["event"] == "submitted"]) >= {"socket", "stop"}
    # the live job made the simulated job's policy decisions
    assert list(exported["event"]) == list(log["event"])
    simulated, from_live = calibrate([log], SCENARIO), calibrate([live], SCENARIO)
    assert from_live.kept == simulated.kept == {}
    for key in ("waiting_patience_s", "active_duration_s", "waiting_exit", "active_exit", "arrivals"):
        sim_table, live_table = simulated.scenario.data["workload"][key], from_live.scenario.data["workload"][key]
        assert sim_table.keys() == live_table.keys()
        for name, value in sim_table.items():
            if isinstance(value, float):
                assert live_table[name] == pytest.approx(value, rel=2e-3), (key, name)
            else:
                assert live_table[name] == value
    obs = read_event_log(live, slot_rules(SCENARIO))
    assert obs.stopped == simulated.observations.stopped > 0


def test_ready_rows_and_live_sources_are_understood() -> None:
    text = ("time_s,worker,event,queue,detail\n0.000,,launched,,\n0.000,,hire,,6\n"
            "4.250,k1,joined,waiting,\n9.100,k2,joined,waiting,\n11.000,k3,joined,waiting,\n"
            "11.000,k1,promoted,active,\n11.000,k2,promoted,active,\n11.812,k1,ready,active,\n"
            "12.030,k2,ready,active,\n80.500,k3,returned,waiting,notification\n80.500,k3,ready,waiting,\n"
            "300.000,k1,abandoned,active,reconcile\n900.000,,stop,,\n903.211,k2,submitted,active,stop\n")
    rows = [line.split(",") for line in text.splitlines()[1:]]
    rules = slot_rules(load_scenario(None))  # abandonments detected 30 s after the worker vanished
    with pytest.raises(InputError, match="row 12: worker 'k3' is ready after leaving"):
        observe_rows(rows, "live.csv", rules)
    rows = [r for r in rows if not (r[1] == "k3" and r[2] == "ready")]
    obs = observe_rows(rows, "live.csv", rules)
    assert obs.waiting_exits == {"returned": 1} and obs.active_exits == {"abandoned": 1}
    assert (obs.stopped, obs.present_at_end) == (1, 0)
    assert sorted(obs.active.times) == pytest.approx([300 - 30 - 11, 900 - 11])
    patience = sorted(zip(obs.patience.times, obs.patience.observed, strict=True))
    assert [t for t, _ in patience] == pytest.approx([1.9, 6.75, 69.5])
    assert [seen for _, seen in patience] == [False, False, True]
