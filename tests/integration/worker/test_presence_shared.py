"""Presence across server processes: two apps on one database, sockets on A, the sweep on B (issue 17 item 2)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from flask import Flask

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.worker import sweeper
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, assignment, connect, enter, make_project

pytestmark = pytest.mark.timeout(120)
PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
NS = "/worker"
WORKERS = 10
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")],
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, scratch_database: Callable[[str, str], AbstractContextManager[str]]
) -> Iterator[str]:
    """One SQLite file, or a fresh PostgreSQL schema (dropped afterwards), shared by both apps."""
    with scratch_database(request.param, "pavilion_presence") as url:
        yield url


def _app(tmp_path: Path, name: str, url: str, clock: ManualClock) -> Flask:
    return create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / name),
            "DATABASE_URL": url,
            "SECRET_KEY": "shared-presence-secret",  # one deployment: both processes verify the same tokens
            "ASYNC_MODE": "threading",
            "BACKGROUND_TASKS": False,
            "CLOCK": clock,
        }
    )


@pytest.fixture
def two(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[tuple[Flask, Flask]]:
    a = _app(tmp_path, "a", database_url, clock)
    b = _app(tmp_path, "b", database_url, clock)
    yield a, b
    for app in (a, b):
        get_runtime(app).shutdown()


def _flush(app: Flask) -> None:
    sweeper.flush(get_worker_side(app))


def _sweep(app: Flask) -> list[str]:
    return sweeper.sweep(get_worker_side(app))


def test_workers_on_a_are_never_abandoned_by_b_while_their_sockets_live(
    two: tuple[Flask, Flask], clock: ManualClock
) -> None:
    a, b = two
    project_id = make_project(get_runtime(a), min_active=2, max_active=2, min_waiting=1, max_waiting=WORKERS)
    entered = [enter(a, project_id) for _ in range(WORKERS)]
    sockets = [connect(a, e.token) for e in entered]
    assert all(s.is_connected(NS) for s in sockets)
    step = get_worker_side(a).flush_s
    for _ in range(12):  # four graces: B sweeps every second in production, here at every step of A's flush
        clock.advance(step)
        _flush(a)  # A alive: its periodic flush keeps its sockets' rows fresh
        assert _sweep(b) == []
        for s in sockets[:3]:
            s.emit("heartbeat", namespace=NS)
    assert all(assignment(get_runtime(b), e.key).how_left is None for e in entered)

    # A dies: its rows stop being refreshed, and after the grace B abandons its workers, once each.
    clock.advance(get_worker_side(b).grace_s - step)
    assert _sweep(b) == []
    clock.advance(step)
    assert sorted(_sweep(b)) == sorted(e.key for e in entered)
    assert _sweep(b) == []
    assert {assignment(get_runtime(b), e.key).how_left for e in entered} == {"abandoned"}


def test_a_socket_closed_on_a_is_abandoned_by_b_after_the_grace_from_the_close(
    two: tuple[Flask, Flask], clock: ManualClock
) -> None:
    a, b = two
    project_id = make_project(get_runtime(a), min_active=2, max_active=2)
    entered = enter(a, project_id)
    socket = connect(a, entered.token)
    clock.advance(100)
    _flush(a)
    assert _sweep(b) == []
    clock.advance(4)  # the close comes between A's flushes; it is written at once
    socket.disconnect(NS)
    grace = get_worker_side(b).grace_s
    clock.advance(grace - 0.5)
    assert _sweep(b) == []  # the grace counts from the close, not from A's last flush
    clock.advance(0.5)
    assert _sweep(b) == [entered.key]
    assert assignment(get_runtime(b), entered.key).how_left == "abandoned"


def test_a_reload_onto_b_keeps_the_place_that_a_would_otherwise_abandon(
    two: tuple[Flask, Flask], clock: ManualClock
) -> None:
    a, b = two
    project_id = make_project(get_runtime(a), min_active=2, max_active=2)
    entered = enter(a, project_id)
    first = connect(a, entered.token)
    first.disconnect(NS)
    clock.advance(5)
    again = connect(b, entered.token)  # the load balancer sent the reload to the other process
    assert again.is_connected(NS)
    for _ in range(6):
        clock.advance(get_worker_side(b).flush_s)
        _flush(b)
        assert _sweep(a) == []
    assert assignment(get_runtime(a), entered.key).how_left is None
