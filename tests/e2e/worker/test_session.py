"""A whole live session through the Flask and Flask-SocketIO test clients, on the local platform:
launch, workers join, promotions reach only the promoted, submits hire, a disconnect past the grace is an
abandonment and a reload within it is not, expire closes the door, migrate, and stop reaches everyone."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Assignment, EventLog, Payment
from pavilion.runtime.projects import parse_project
from pavilion.runtime.worker import sweeper
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, Worker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

PROJECT = {
    "name": "e2e session",
    "policy": {"name": "pavilion", "min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 2},
    "platform": {"name": "local"},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12.00"},
    "task": {"title": "Steer together", "url": "https://task.test/steer", "max_waiting_s": 120},
}


def promoted(workers: list[Worker]) -> dict[str, list[object]]:
    """Who got a `promoted` message since the last read, with its payloads (the task URL without the query that
    tells the task who is in it, checked here to name that very worker); everyone's inbox is read."""
    out: dict[str, list[object]] = {}
    for worker in workers:
        got = [payload for name, payload in worker.read() if name == "promoted"]
        for payload in got:
            url = urlsplit(payload["url"])
            query = parse_qs(url.query)
            assert query["pavilion_assignment"] == [worker.key]
            claim = get_worker_side(worker.app).task_tokens.verify(query["pavilion_task_token"][0])
            assert (claim.assignment_key, [claim.worker_id]) == (worker.key, query["pavilion_worker"])
            payload["url"] = url._replace(query="").geturl()
        if got:
            out[worker.key] = got
    return out


def test_a_whole_session(app: Flask, clock: ManualClock) -> None:
    runtime = get_runtime(app)
    service = runtime.service
    project_id = service.create_project(parse_project(PROJECT))
    service.launch(project_id)  # Hire(max_active + max_waiting) = 5 places behind the join link

    w1, w2 = Worker(app, project_id), Worker(app, project_id)
    assert w1.read()[-1] == ("queue", {"queue": "waiting", "position": 1, "waiting": 2, "active": 0, "earned_usd": 0.0,
                                       "start_at": 3, "needed": 1})
    clock.advance(30)
    w3 = Worker(app, project_id)  # 3 waiting = min_active + min_waiting: the job starts with the two oldest
    everyone = [w1, w2, w3]
    url = {"url": "https://task.test/steer"}
    assert promoted(everyone) == {w1.key: [url], w2.key: [url]}
    assert w3.inbox[-1] == ("queue", {"queue": "waiting", "position": 1, "waiting": 1, "active": 2, "earned_usd": 0.0,
                                      "start_at": 0, "needed": 0})
    assert w1.send("ready") == {"ok": True}

    w4 = Worker(app, project_id)  # waiting holds 2 > min_waiting and active 2 < max_active: w3 goes up
    everyone.append(w4)
    assert promoted(everyone) == {w3.key: [url]}

    clock.advance(600)
    assert w1.send("leave", {"how": "submitted"}) == {"ok": True, "how": "submitted"}  # an active submit hires one
    w5 = Worker(app, project_id)  # takes the re-hired place; waiting 2 > 1 and active 2 < 3: w4 goes up
    everyone.append(w5)
    assert promoted(everyone) == {w4.key: [url]}

    # w2 closes the tab for good: past the grace it is one abandonment; the active queue shrinks, no hire.
    w2.close()
    clock.advance(10)
    # w5 reloads within the grace: the same place, told at once (w2 still counts until the grace is over).
    assert w5.reload() == "waiting"
    assert w5.read()[0] == ("queue", {"queue": "waiting", "position": 1, "waiting": 1, "active": 3,
                                      "earned_usd": pytest.approx(0.02), "start_at": 0, "needed": 0})
    assert sweeper.sweep(get_worker_side(app)) == []
    clock.advance(5)
    assert sweeper.sweep(get_worker_side(app)) == [w2.key]
    snap = service.snapshot(project_id)
    assert snap["active"] == [w3.key, w4.key] and snap["waiting"] == [w5.key]

    service.expire(project_id)  # recruitment closes; those present stay
    late = app.test_client().get(f"/join/{project_id}", follow_redirects=True)
    assert late.status_code == 403 and "recruitment for this session is closed" in late.get_data(as_text=True).lower()

    service.migrate(project_id, w5.key)  # the researcher moves w5 up by hand
    assert promoted(everyone) == {w5.key: [url]}

    clock.advance(60)
    service.stop(project_id)
    told = {w.key for w in everyone if ("stop", {}) in w.read()}
    assert told == {w3.key, w4.key, w5.key}  # everyone still present, nobody who already left
    for worker in (w3, w4, w5):  # each page submits itself: the departure first, then the platform form
        assert worker.send("leave", {"how": "submitted"}) == {"ok": True, "how": "submitted"}

    with runtime.db.session_scope() as session:
        events = Counter(e.event for e in session.scalars(select(EventLog).where(EventLog.project_id == project_id)))
        hires = [int(e.detail) for e in session.scalars(select(EventLog).where(EventLog.event == "hire"))]
        how = {a.key: a.how_left for a in session.scalars(select(Assignment))}
        paid = Counter(p.assignment.key for p in session.scalars(select(Payment)))
    assert hires == [5, 1]  # the launch, then w1's submit; none for the abandonment, none after stop
    assert events["joined"] == 5 and events["promoted"] == 5 and events["abandoned"] == 1
    assert events["submitted"] == 4 and events["expire"] == 1 and events["stop"] == 1
    assert how == {w1.key: "submitted", w2.key: "abandoned", w3.key: "submitted", w4.key: "submitted",
                   w5.key: "submitted"}
    assert paid[w2.key] == 0 and all(paid[w.key] >= 2 for w in (w1, w3, w4, w5))  # reward + wages
    clock.advance(60)
    assert sweeper.sweep(get_worker_side(app)) == []  # nobody left to abandon
