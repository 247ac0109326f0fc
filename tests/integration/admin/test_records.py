"""The ledger page and the CSV exports (event log in the simulator's schema, assignments, ledger) of a real session,
and the promotion-to-ready latency on the project page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pavilion.runtime.accounts import create_admin
from pavilion.runtime.app import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.exports import ASSIGNMENT_COLUMNS, LEDGER_COLUMNS
from pavilion.runtime.models import Assignment, Payment
from pavilion.runtime.platforms.base import Identity

from .conftest import PASSWORD, USERNAME, login, make_project


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def app(tmp_path: Path, clock: StepClock) -> Iterator[Flask]:
    app = create_app({
        "INSTANCE_PATH": str(tmp_path), "ENV": "testing", "SECRET_KEY": "test-secret", "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "CLOCK": clock,
    })
    runtime = get_runtime(app)
    create_admin(runtime.db, USERNAME, PASSWORD, runtime.clock)
    yield app
    runtime.shutdown()


@pytest.fixture
def session_run(app: Flask, clock: StepClock) -> tuple[int, list[str]]:
    """Launch at t=0; workers join at t=10, 20, 30 (the first two start at 30); the first submits at t=3630."""
    service = get_runtime(app).service
    project_id = make_project(app)  # 2..3 active, 1..3 waiting; $0.50 reward, $6/h waiting, $9/h active
    service.launch(project_id)
    keys = []
    for i in range(3):
        clock.now += timedelta(seconds=10)
        keys.append(service.join(project_id, Identity(f"lab-{i}", f"a-{i}")).assignment_key)
    clock.now += timedelta(seconds=3600)
    service.depart(project_id, keys[0], "submitted", source="socket")
    return project_id, keys


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_event_log_csv_has_the_simulator_columns(
    admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    response = admin_client.get(f"/admin/projects/{project_id}/events.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == "time_s,worker,event,queue,detail"
    events = rows(text)
    assert (events[0]["event"], events[0]["time_s"]) == ("launched", "0.000")
    joined = [e for e in events if e["event"] == "joined"]
    assert [(e["worker"], e["time_s"]) for e in joined] == [
        (keys[0], "10.000"), (keys[1], "20.000"), (keys[2], "30.000")
    ]
    submitted = [e for e in events if e["event"] == "submitted"]
    assert [(e["worker"], e["queue"], e["time_s"]) for e in submitted] == [(keys[0], "active", "3630.000")]
    assert [float(e["time_s"]) for e in events] == sorted(float(e["time_s"]) for e in events)


def test_the_assignments_csv_has_one_row_per_stint(
    admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    stints = rows(admin_client.get(f"/admin/projects/{project_id}/assignments.csv").get_data(as_text=True))
    assert [s["worker"] for s in stints] == keys
    first = stints[0]
    assert (first["platform_worker_id"], first["platform_assignment_id"]) == ("lab-0", "a-0")
    assert (first["joined_s"], first["promoted_s"], first["left_s"], first["how"]) == (
        "10.000", "30.000", "3630.000", "submitted")
    # min_waiting is 1, so the one waiting worker stays in waiting when a place frees up.
    assert (stints[2]["promoted_s"], stints[2]["left_s"], stints[2]["queue"]) == ("", "", "waiting")


def test_the_ledger_lists_amounts_fees_and_status(
    app: Flask, admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    # A pending line with a fee, written by hand (the local platform charges none).
    # Lines for the first worker: reward $0.50, 20 s waiting at $6/h = $0.03, 3600 s active at $9/h = $9.00.
    with get_runtime(app).db.session_scope() as session:
        third = session.scalars(select(Assignment.id).where(Assignment.key == keys[2])).one()
        session.add(Payment(project_id=project_id, assignment_id=third, kind="waiting", amount_cents=125, fee_cents=25,
                            status="pending", key="extra-line", created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    html = admin_client.get(f"/admin/projects/{project_id}/ledger").get_data(as_text=True)
    assert html.count(f"<code>{keys[0]}</code>") == 3
    for amount in ("$0.50", "$0.03", "$9.00", "$1.25", "$0.25"):
        assert amount in html
    assert '<div class="value" id="total-amount">$10.78</div>' in html
    assert '<div class="value" id="total-fees">$0.25</div>' in html
    assert "badge-paid" in html and "badge-pending" in html


def test_an_empty_ledger_says_so(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    assert "No payments yet" in admin_client.get(f"/admin/projects/{project_id}/ledger").get_data(as_text=True)


def test_login_still_needed_for_exports(app: Flask, session_run: tuple[int, list[str]]) -> None:
    client = app.test_client()
    assert client.get(f"/admin/projects/{session_run[0]}/events.csv").status_code == 302
    login(client)
    assert client.get(f"/admin/projects/{session_run[0]}/events.csv").status_code == 200


def test_the_event_log_loads_like_the_simulators(admin_client: FlaskClient, session_run: tuple[int, list[str]]) -> None:
    import pandas as pd

    from pavilion.sim.eventlog import EVENT_KINDS, EVENT_LOG_COLUMNS

    text = admin_client.get(f"/admin/projects/{session_run[0]}/events.csv").get_data(as_text=True)
    frame = pd.read_csv(io.StringIO(text), dtype={"worker": str, "queue": str, "detail": str}, keep_default_na=False)
    assert tuple(frame.columns) == EVENT_LOG_COLUMNS
    assert frame["time_s"].dtype == "float64"
    assert set(frame["event"]) <= set(EVENT_KINDS)
    assert set(frame["queue"]) <= {"waiting", "active", ""}


def test_the_assignments_csv_keeps_the_queue_left_from(
    app: Flask, clock: StepClock, admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    service = get_runtime(app).service
    clock.now += timedelta(seconds=10)
    service.stop(project_id)
    service.depart(project_id, keys[1], "submitted", source="socket")
    service.depart(project_id, keys[2], "returned", source="socket")
    text = admin_client.get(f"/admin/projects/{project_id}/assignments.csv").get_data(as_text=True)
    assert text.splitlines()[0].split(",") == list(ASSIGNMENT_COLUMNS)
    assert [(s["queue"], s["how"]) for s in rows(text)] == [
        ("active", "submitted"), ("active", "submitted"), ("waiting", "returned")]


def test_the_ledger_csv_is_linked_and_lists_each_line(
    app: Flask, admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    href = f'href="/admin/projects/{project_id}/ledger.csv"'
    assert href in admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert href in admin_client.get(f"/admin/projects/{project_id}/ledger").get_data(as_text=True)
    response = admin_client.get(f"/admin/projects/{project_id}/ledger.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].split(",") == list(LEDGER_COLUMNS)
    lines = rows(text)
    with get_runtime(app).db.session_scope() as session:
        stored = sorted((p.key, p.kind, p.status) for p in session.scalars(select(Payment)))
    assert sorted((line["idempotency_key"], line["kind"], line["status"]) for line in lines) == stored
    assert {(line["worker"], line["platform_worker_id"]) for line in lines} == {(keys[0], "lab-0")}
    assert sorted(line["amount_usd"] for line in lines) == ["0.03", "0.50", "9.00"]


def test_the_ledger_page_names_the_platform_worker(
    admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    html = admin_client.get(f"/admin/projects/{session_run[0]}/ledger").get_data(as_text=True)
    assert html.count('<td class="mono">lab-0</td>') == 3


def test_the_project_page_shows_promotion_to_ready_latency(
    app: Flask, clock: StepClock, admin_client: FlaskClient, session_run: tuple[int, list[str]]
) -> None:
    project_id, keys = session_run
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert "no promotion acknowledged yet" in page
    # A fourth joins at t=3630 and the waiting worker is seated; their page is ready 1.5 s later. The second (seated
    # at t=30) never acknowledged, and the first has left: a departed stint logs no `ready`.
    service = get_runtime(app).service
    service.join(project_id, Identity("lab-3", "a-3"))
    clock.now += timedelta(seconds=1.5)
    assert service.ready(project_id, keys[2]) and not service.ready(project_id, keys[0])
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert "p50 1.50 s · p90 1.50 s\n  · max 1.50 s over 1 promotion" in page
    stints = rows(admin_client.get(f"/admin/projects/{project_id}/assignments.csv").get_data(as_text=True))
    assert [(s["promoted_s"], s["ready_s"], s["ready_latency_s"]) for s in stints[1:3]] == [
        ("30.000", "", ""), ("3630.000", "3631.500", "1.500")]
