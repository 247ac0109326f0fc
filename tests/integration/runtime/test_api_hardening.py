"""Issue 17 items 5 and 6 over the JSON API: hostile bodies are 400s that change nothing; tokens see only their own
admin's projects (another's is a 404, as if it did not exist)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from pavilion.runtime.context import get_runtime

from .api_apps import Api, api_app, database_snapshot, database_url, token_for  # noqa: F401 - fixture
from .helpers import project_json


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:  # noqa: F811 - the fixture above
    app = api_app(tmp_path, database_url)
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def alice(app: Flask) -> Api:
    return Api(app.test_client(), token_for(app, "alice"))


@pytest.fixture
def bob(app: Flask) -> Api:
    return Api(app.test_client(), token_for(app, "bob"))


def _raw(api: Api, path: str, body: str) -> tuple[int, dict[str, str]]:
    response = api.client.post(f"/api{path}", data=body.encode("utf-8", "surrogatepass"),
                               headers={**api.headers, "Content-Type": "application/json"})
    return response.status_code, response.get_json()


HOSTILE = {
    # Each gave a 500 before (issue 17 item 5): RecursionError, UnicodeEncodeError, NUL on PostgreSQL.
    "1000 levels of nesting": "[" * 1000 + "]" * 1000,
    "1000 nested objects": '{"a":' * 1000 + "1" + "}" * 1000,
    "a lone surrogate in the name": json.dumps({**project_json(), "name": "robot \ud800 steering"}),
    "a lone surrogate as raw bytes": '{"name": "robot \ud83d"}',
    "a NUL in the name": json.dumps({**project_json(), "name": "robot\x00"}),
    "a NUL in a task text": json.dumps({**project_json(), "task": {"title": "a\x00b"}}),
    "a control character in a key": json.dumps({**project_json(), "pay\x1b": {}}),
    "invalid UTF-8": "",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_project_body_is_a_400_that_changes_nothing(app: Flask, alice: Api, case: str) -> None:
    before = database_snapshot(get_runtime(app).db)
    if case == "invalid UTF-8":
        response = alice.client.post("/api/projects", data=b'{"name": "\xff\xfe"}',
                                     headers={**alice.headers, "Content-Type": "application/json"})
        status, body = response.status_code, response.get_json()
    else:
        status, body = _raw(alice, "/projects", HOSTILE[case])
    assert status == 400, body
    assert set(body) == {"error"} and body["error"]
    assert database_snapshot(get_runtime(app).db) == before


def test_a_control_character_in_a_worker_id_is_a_400(app: Flask, alice: Api) -> None:
    project = alice.post("/projects", project_json()).get_json()["id"]
    alice.post(f"/projects/{project}/launch")
    before = database_snapshot(get_runtime(app).db)
    for worker in ("w\x00", "w\r\x07", "\ud800"):
        status, body = _raw(alice, f"/projects/{project}/migrate", json.dumps({"worker_id": worker}))
        assert status == 400 and "worker_id" in body["error"], body
    assert database_snapshot(get_runtime(app).db) == before


def test_the_error_names_the_field_and_the_character(alice: Api) -> None:
    status, body = _raw(alice, "/projects", json.dumps({**project_json(), "task": {"title": "a\x00"}}))
    assert status == 400 and body["error"] == "task.title contains a control character (U+0000) at position 1"
    status, body = _raw(alice, "/projects", "[" * 40 + "]" * 40)
    assert status == 400 and "deeper than 32 levels" in body["error"]


def test_ordinary_text_is_kept_as_sent(alice: Api) -> None:
    name = "Téléopération 🤖 — tab\there, new\nline"
    created = alice.post("/projects", project_json(name=name))
    assert created.status_code == 201
    assert alice.get(f"/projects/{created.get_json()['id']}").get_json()["name"] == name


def test_a_token_reads_and_acts_only_on_its_own_admins_projects(app: Flask, alice: Api, bob: Api) -> None:
    mine = alice.post("/projects", project_json()).get_json()["id"]
    assert alice.post(f"/projects/{mine}/launch").status_code == 200
    before = database_snapshot(get_runtime(app).db)
    # Before: bob's token read and expired alice's project. Now every route answers as for a missing project.
    answers = [bob.get(f"/projects/{mine}"), bob.get(f"/projects/{mine}/events.csv"),
               bob.post(f"/projects/{mine}/launch"), bob.post(f"/projects/{mine}/stop"),
               bob.post(f"/projects/{mine}/expire"), bob.post(f"/projects/{mine}/migrate", {"worker_id": "x"})]
    missing = bob.get("/projects/999999")
    assert [r.status_code for r in answers] == [404] * 6
    assert {r.get_json()["error"] for r in answers} == {f"no project {mine}"}
    assert missing.status_code == 404 and missing.get_json()["error"] == "no project 999999"
    assert database_snapshot(get_runtime(app).db) == before
    assert alice.get(f"/projects/{mine}").get_json()["status"] == "live"


def test_a_project_made_outside_the_api_has_no_owner_and_no_token_sees_it(app: Flask, alice: Api) -> None:
    from pavilion.runtime.projects import parse_project

    project = get_runtime(app).service.create_project(parse_project(project_json()))
    assert alice.get(f"/projects/{project}").status_code == 404


def test_a_huge_project_id_is_a_404(alice: Api) -> None:
    assert alice.get(f"/projects/{2**40}").status_code == 404
