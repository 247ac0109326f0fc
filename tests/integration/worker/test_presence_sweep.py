"""The abandon grace end to end through the app: sockets, reloads, a restart, and de-duplicated departures."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from pavilion.runtime import create_app
from pavilion.runtime.context import Runtime, get_runtime
from pavilion.runtime.models import EventLog
from pavilion.runtime.worker import sweeper
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, assignment, connect, enter, make_project, received

pytestmark = pytest.mark.timeout(60)
NS = "/worker"


def sweep(app: Flask) -> list[str]:
    return sweeper.sweep(get_worker_side(app))


def departures(runtime: Runtime, project_id: int) -> list[tuple[str, str, str]]:
    with runtime.db.session_scope() as session:
        rows = session.scalars(
            select(EventLog).where(
                EventLog.project_id == project_id, EventLog.event.in_(("submitted", "returned", "abandoned"))
            )
        )
        return [(r.event, r.worker, r.detail) for r in rows]


def test_a_disconnect_past_the_grace_is_one_abandonment_and_a_reload_within_it_is_not(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    socket = connect(app, entered.token)
    clock.advance(300)
    assert sweep(app) == []  # connected: never stale
    socket.disconnect(NS)
    clock.advance(14.9)
    assert sweep(app) == []
    # The reload: the live page again, then a new socket, which finds the place as it was.
    assert app.test_client().get(entered.live_url).status_code == 200
    again = connect(app, entered.token)
    assert received(again, "queue")[0]["position"] == 1
    again.disconnect(NS)
    clock.advance(15)
    assert sweep(app) == [entered.key]
    assert sweep(app) == []
    row = assignment(runtime, entered.key)
    assert row.how_left == "abandoned" and row.left_source == "presence"
    assert departures(runtime, project_id) == [("abandoned", entered.key, "presence")]


def test_a_page_that_never_opens_its_socket_is_abandoned_after_the_grace(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    clock.advance(10)
    assert sweep(app) == []
    clock.advance(5)
    assert sweep(app) == [entered.key]


def test_a_platform_departure_seen_first_makes_the_sweep_a_no_op(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    assert runtime.service.depart(project_id, entered.key, "returned", source="platform")
    clock.advance(60)
    assert sweep(app) == []
    assert departures(runtime, project_id) == [("returned", entered.key, "platform")]


def test_after_a_restart_present_stints_get_a_fresh_grace(tmp_path: Path, app: Flask, clock: ManualClock) -> None:
    runtime = get_runtime(app)
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    clock.advance(3600)  # the server was down for an hour; nobody could reconnect
    restarted = create_app({**{k: app.config[k] for k in ("ENV", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY")},
                            "ASYNC_MODE": "threading", "BACKGROUND_TASKS": False, "CLOCK": clock})
    try:
        assert sweep(restarted) == []  # adopted with a fresh grace, not abandoned for the downtime
        socket = connect(restarted, entered.token)
        assert socket.is_connected(NS)
        clock.advance(60)
        assert sweep(restarted) == []
    finally:
        get_runtime(restarted).shutdown()


def test_the_sweep_runs_in_the_runtime_background_loop(app: Flask, runtime: Runtime, clock: ManualClock) -> None:
    assert [job.every_s for job in runtime.periodic if job.name == "presence"] == [1.0]
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    clock.advance(15)
    runtime.run_due(now=0.0)
    assert assignment(runtime, entered.key).how_left == "abandoned"


def test_a_page_back_just_as_its_stint_is_abandoned_is_told_its_place_is_gone(
    app: Flask, runtime: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2)
    entered = enter(app, project_id)
    clock.advance(15)
    depart = runtime.service.depart
    sockets = []

    def reconnect_first(*args: object, **kwargs: object) -> bool:
        sockets.append(connect(app, entered.token))  # the reload lands between the check and the departure
        return depart(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.service, "depart", reconnect_first)
    assert sweep(app) == [entered.key]
    assert received(sockets[0], "rejected") == [{"reason": "abandoned"}]
    assert get_worker_side(app).presence.get(entered.key) is None
