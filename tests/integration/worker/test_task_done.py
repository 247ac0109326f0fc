"""POST /task/<id>/done: the project's task reports its worker done with the task token; the stint ends as
`submitted` once (the worker's own leave rules), the page is told `stop`, and bad reports change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pavilion.runtime.context import Runtime
from pavilion.runtime.models import EventLog, Payment
from pavilion.runtime.tokens import WorkerClaim
from pavilion.runtime.worker.side import get_worker_side

from .conftest import Entered, connect, enter, make_project, received, table_counts

pytestmark = pytest.mark.timeout(60)
TASK = {"url": "https://task.test/live?room=1"}


def seated(app: Flask, runtime: Runtime, project_id: int) -> tuple[Entered, Any, dict[str, str]]:
    """A promoted worker, their socket, and the three parameters of the task address they were sent."""
    first = enter(app, project_id)
    socket = connect(app, first.token)
    enter(app, project_id)  # min_active 1 + min_waiting 1: the first worker is promoted
    (message,) = received(socket, "promoted")
    query = {k: v[0] for k, v in parse_qs(urlsplit(message["url"]).query).items()}
    return first, socket, query


def rows(runtime: Runtime, project_id: int, key: str) -> list[tuple[str, str]]:
    with runtime.db.session_scope() as session:
        found = session.scalars(select(EventLog).where(EventLog.project_id == project_id, EventLog.worker == key))
        return [(e.event, e.detail) for e in found]


def test_the_task_ends_the_stint_as_submitted_once_and_the_page_is_told(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task=TASK)
    worker, socket, query = seated(app, runtime, project_id)
    client = app.test_client()
    done = client.post(f"/task/{project_id}/done", json={"token": query["pavilion_task_token"]})
    assert done.status_code == 200, done.get_json()
    claim = get_worker_side(app).task_tokens.verify(query["pavilion_task_token"])
    assert done.get_json() == {"ok": True, "how": "submitted", "already": False, "worker": claim.worker_id,
                               "assignment": worker.key}
    assert received(socket, "stop") == [{"submitted": True}]
    assert rows(runtime, project_id, worker.key).count(("submitted", "task")) == 1
    with runtime.db.session_scope() as session:
        paid = session.scalars(select(Payment.kind).where(Payment.project_id == project_id)).all()
    assert "reward" in paid
    before = table_counts(runtime)
    again = client.post(f"/task/{project_id}/done", data={"pavilion_task_token": query["pavilion_task_token"]})
    assert again.status_code == 200 and again.get_json()["already"] is True  # a retry: no second departure
    assert table_counts(runtime) == before and received(socket, "stop") == []
    assert [e for e, _ in rows(runtime, project_id, worker.key)].count("submitted") == 1
    # The page's own `leave` afterwards is refused as a second departure, not recorded.
    assert socket.emit("leave", {"how": "submitted"}, namespace="/worker", callback=True)["ok"] is False


def test_a_form_report_with_all_three_parameters_and_a_query_token_work(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=2, max_active=2, min_waiting=0)
    a, b = enter(app, project_id), enter(app, project_id)
    socket_a, socket_b = connect(app, a.token), connect(app, b.token)
    received(socket_a), received(socket_b)
    side = get_worker_side(app)
    token_a = side.task_tokens.issue(side.tokens.verify(a.token))
    claim_a = side.task_tokens.verify(token_a)
    form = {"pavilion_task_token": token_a, "pavilion_worker": claim_a.worker_id, "pavilion_assignment": a.key}
    assert app.test_client().post(f"/task/{project_id}/done", data=form).status_code == 200
    token_b = side.task_tokens.issue(side.tokens.verify(b.token))
    by_query = app.test_client().post(f"/task/{project_id}/done?pavilion_task_token={token_b}")
    assert by_query.status_code == 200 and by_query.get_json()["assignment"] == b.key


def test_a_stint_that_ended_otherwise_is_a_conflict(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task=TASK)
    worker, socket, query = seated(app, runtime, project_id)
    assert socket.emit("leave", {"how": "returned"}, namespace="/worker", callback=True)["ok"] is True
    before = table_counts(runtime)
    done = app.test_client().post(f"/task/{project_id}/done", json={"token": query["pavilion_task_token"]})
    assert done.status_code == 409 and done.get_json()["how"] == "returned"
    assert "already ended (returned)" in done.get_json()["error"] and table_counts(runtime) == before


def test_bad_reports_are_refused_with_a_json_error_and_change_nothing(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task=TASK)
    other = make_project(runtime)
    worker, _socket, query = seated(app, runtime, project_id)
    side = get_worker_side(app)
    token = query["pavilion_task_token"]
    claim = side.task_tokens.verify(token)
    other_token = side.task_tokens.issue(WorkerClaim(other, worker.key, claim.worker_id))
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 400, "missing field 'token'"),
        ({"json": [token]}, 400, "must be a JSON object"),
        ({"json": {"token": 7}}, 400, "token must be a string, got int"),
        ({"json": {"token": token, "how": "returned"}}, 400, "unknown field 'how'"),
        ({"json": {"token": token, "pavilion_task_token": other_token}}, 400, "differ"),
        ({"data": "token=x", "content_type": "text/plain"}, 400, "must be JSON"),
        ({"json": {"token": "x\x00y"}}, 400, "control character"),
        ({"json": {"token": "x" * 1025}}, 400, "longer than 1024"),
        ({"json": {"token": "forged.token.sig"}}, 403, "bad signature"),
        ({"json": {"token": worker.token}}, 403, "bad signature"),  # the page's own token is no task token
        ({"json": {"token": other_token}}, 403, "another session"),
        ({"json": {"token": token, "pavilion_worker": "someone else"}}, 403, "does not match"),
        ({"json": {"token": token, "pavilion_assignment": "0" * 16}}, 403, "does not match"),
    ]
    before = table_counts(runtime)
    for kwargs, status, message in cases:
        answer = app.test_client().post(f"/task/{project_id}/done", **kwargs)
        assert answer.status_code == status, (kwargs, answer.get_data(as_text=True))
        assert message in answer.get_json()["error"], (kwargs, answer.get_json())
    assert table_counts(runtime) == before
    assert app.test_client().get(f"/task/{project_id}/done").status_code == 200  # the thank-you page stays


def test_the_report_needs_no_csrf_token_while_the_admin_forms_do(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task=TASK)
    _worker, _socket, query = seated(app, runtime, project_id)
    login = app.test_client().post("/admin/login", data={"username": "a", "password": "b"})
    assert login.status_code == 400 and "CSRF" in login.get_data(as_text=True)  # CSRF protection is on here
    done = app.test_client().post(f"/task/{project_id}/done", data={"token": query["pavilion_task_token"]})
    assert done.status_code == 200


TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30) | st.sampled_from(
    ["", "\x00", "\ud800", "x" * 3000, "token", "pavilion_task_token", "forged.token.sig"])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
NAMES = st.sampled_from(["token", "pavilion_task_token", "pavilion_worker", "pavilion_assignment"])
FORM_TEXT = st.text(st.characters(codec="utf-8"), max_size=30) | st.sampled_from(["", "\x00", "x" * 3000])
BODIES = (st.builds(lambda v: {"json": v}, JSON | st.dictionaries(NAMES | TEXT, JSON, max_size=3))
          | st.builds(lambda v: {"data": v}, st.dictionaries(NAMES | FORM_TEXT, FORM_TEXT, max_size=3))
          | st.builds(lambda v, q: {"data": v, "query_string": q}, st.binary(max_size=40),
                      st.dictionaries(NAMES | FORM_TEXT, FORM_TEXT, max_size=2)))


@pytest.fixture
def seated_project(app: Flask, runtime: Runtime) -> int:
    """A project with a worker on the task, whose stint a genuine report would end."""
    project_id = make_project(runtime, task=TASK)
    seated(app, runtime, project_id)
    return project_id


@given(body=BODIES)
@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_report_without_a_genuine_token_is_a_json_refusal_that_changes_nothing(
    app: Flask, runtime: Runtime, seated_project: int, body: dict[str, Any]
) -> None:
    before = table_counts(runtime)
    answer = app.test_client().post(f"/task/{seated_project}/done", **body)
    assert answer.status_code in (400, 403, 413), (body, answer.get_data(as_text=True))
    event(f"status {answer.status_code}")  # --hypothesis-show-statistics: how often each refusal was reached
    assert isinstance(answer.get_json()["error"], str) and table_counts(runtime) == before
