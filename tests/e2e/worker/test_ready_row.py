"""`ready` is logged live (DESIGN section 9): the first acknowledgement of a promotion is one event-log row."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask

from pavilion.runtime.context import get_runtime
from pavilion.runtime.eventlog import event_csv
from pavilion.runtime.projects import parse_project

from .conftest import ManualClock, Worker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

PROJECT = {
    "name": "ready rows",
    "policy": {"name": "pavilion", "min_active": 1, "max_active": 1, "min_waiting": 0, "max_waiting": 1},
    "platform": {"name": "local"},
    "pay": {"reward": "0.10", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12.00"},
    "task": {"title": "Ready"},
}


def test_the_first_ready_of_a_promotion_is_logged_once(app: Flask, clock: ManualClock) -> None:
    service = get_runtime(app).service
    project_id = service.create_project(parse_project(PROJECT))
    service.launch(project_id)
    first, second = Worker(app, project_id), Worker(app, project_id)  # first is promoted at once, second waits
    assert second.send("ready")["ok"] is False  # not promoted: refused, not logged
    clock.advance(2.5)
    assert first.send("ready") == {"ok": True}
    assert first.reload() == "active"  # a reload is promoted again and answers again
    assert first.send("ready") == {"ok": True}
    with get_runtime(app).db.session_scope() as session:
        rows = list(csv.DictReader(io.StringIO(event_csv(session, project_id))))
    ready = [r for r in rows if r["event"] == "ready"]
    assert [(r["worker"], r["queue"], float(r["time_s"])) for r in ready] == [(first.key, "active", 2.5)]
    promoted = [r for r in rows if r["event"] == "promoted"]
    assert rows.index(promoted[0]) < rows.index(ready[0])
