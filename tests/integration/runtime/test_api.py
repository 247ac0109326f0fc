"""The JSON admin API with the Flask test client: DESIGN.md section 8, and bad input that changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime import create_app
from pavilion.runtime.accounts import create_admin, create_token
from pavilion.runtime.context import get_runtime
from pavilion.runtime.platforms.base import Identity

from .helpers import project_json, table_counts


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret", "ENV": "testing", "MAX_CONTENT_LENGTH": 4096}
    )
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def token(app: Flask) -> str:
    runtime = get_runtime(app)
    create_admin(runtime.db, "alice", "correct horse", runtime.clock)
    return create_token(runtime.db, "alice", runtime.clock)


class Api:
    """The test client with the bearer token and JSON bodies."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["json"] = body
        return self.client.post(f"/api{path}", headers=self.headers, **kwargs)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api{path}", headers=self.headers)


@pytest.fixture
def api(app: Flask, token: str) -> Api:
    return Api(app.test_client(), token)


def unchanged(app: Flask):
    before = table_counts(get_runtime(app).db)
    return lambda: table_counts(get_runtime(app).db) == before


def test_a_scripted_session(app: Flask, api: Api) -> None:
    created = api.post("/projects", project_json())
    assert created.status_code == 201 and created.get_json() == {"id": 1}
    assert api.post("/projects/1/launch").get_json()["status"] == "live"
    service = get_runtime(app).service
    keys = [service.join(1, Identity(f"W{i}", f"A{i}")).assignment_key for i in range(4)]
    snap = api.get("/projects/1").get_json()
    assert {k: snap[k] for k in ("id", "status", "waiting", "active")} == {
        "id": 1,
        "status": "live",
        "waiting": keys[3:],
        "active": keys[:3],
    }
    assert snap["counts"]["joined"] == 4 and snap["counts"]["hired"] == 6
    assert api.post("/projects/1/expire").get_json()["status"] == "expired"
    assert api.post("/projects/1/stop").get_json()["status"] == "stopped"
    events = api.get("/projects/1/events.csv")
    assert events.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(events.get_data(as_text=True))))
    assert list(rows[0]) == ["time_s", "worker", "event", "queue", "detail"]
    assert [r["event"] for r in rows][:2] == ["launched", "hire"] and rows[-1]["event"] == "stop"


def test_migrate_with_and_without_force(app: Flask, api: Api) -> None:
    api.post("/projects", project_json(min_active=1, max_active=1, min_waiting=0, max_waiting=2))
    api.post("/projects/1/launch")
    service = get_runtime(app).service
    a, b = (service.join(1, Identity(f"W{i}", f"A{i}")).assignment_key for i in range(2))
    refused = api.post("/projects/1/migrate", {"worker_id": b})
    assert refused.status_code == 409 and "force" in refused.get_json()["error"]
    moved = api.post("/projects/1/migrate", {"worker_id": b, "force": True})
    assert moved.status_code == 200 and moved.get_json()["active"] == [a, b]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic YWxpY2U6eA=="}, "missing bearer token"),
        ({"Authorization": "Bearer forged-token"}, "invalid or revoked"),
        ({"Authorization": "Bearer " + "x" * 5000}, "invalid or revoked"),
    ],
)
def test_bad_tokens_are_refused(app: Flask, token: str, headers: dict[str, str], message: str) -> None:
    same = unchanged(app)
    response = app.test_client().post("/api/projects", json=project_json(), headers=headers)
    assert response.status_code == 401 and message in response.get_json()["error"]
    assert same()


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/projects", {"policy": {"min_active": 1, "max_active": 1}}, 400, "missing field 'name'"),
        ("/projects", {**project_json(), "policy": {"name": "pavilion", "min_active": "two"}}, 400, "integer"),
        ("/projects", [1, 2], 400, "JSON object"),
        ("/projects/1/migrate", {}, 400, "missing field 'worker_id'"),
        ("/projects/1/migrate", {"worker_id": 5}, 400, "worker_id must be a non-empty string"),
        ("/projects/1/migrate", {"worker_id": "abc", "force": "yes"}, 400, "force must be true or false"),
        ("/projects/1/migrate", {"worker_id": "nobody"}, 409, "not in the waiting queue"),
        ("/projects/1/migrate", {"worker_id": "abc", "extra": 1}, 400, "unknown field 'extra'"),
        ("/projects/99/launch", None, 404, "no project 99"),
        ("/projects/1/expire", None, 409, "only a live project"),
        ("/projects/abc/launch", None, 404, ""),
        ("/projects/99999999999999999999/launch", None, 404, "no project"),
        ("/projects/1/migrate", {"worker_id": "w" * 100}, 400, "worker_id is longer than 32"),
    ],
)
def test_bad_requests_get_an_error_and_change_nothing(
    app: Flask, api: Api, path: str, body: Any, status: int, message: str
) -> None:
    api.post("/projects", project_json())
    same = unchanged(app)
    response = api.post(path, body)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert same()


def test_a_body_that_is_not_json(app: Flask, api: Api) -> None:
    same = unchanged(app)
    response = api.post("/projects", data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "must be JSON" in response.get_json()["error"]
    response = api.post("/projects", data="{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]
    assert same()


def test_an_oversized_payload_is_refused(app: Flask, api: Api) -> None:
    same = unchanged(app)
    response = api.post("/projects", project_json(task={"description": "x" * 10_000}))
    assert response.status_code == 413 and response.get_json()["error"]
    assert same()


def test_a_stopped_project_refuses_events(app: Flask, api: Api) -> None:
    api.post("/projects", project_json())
    api.post("/projects/1/launch")
    api.post("/projects/1/stop")
    same = unchanged(app)
    for action in ("launch", "stop", "expire"):
        response = api.post(f"/projects/1/{action}")
        assert response.status_code == 409 and "stopped" in response.get_json()["error"]
    assert api.post("/projects/1/migrate", {"worker_id": "x"}).status_code == 409
    assert same()
