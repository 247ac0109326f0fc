"""Hypothesis fuzzes the JSON API on SQLite and PostgreSQL (issue 17 item 7b): no 5xx whatever the body, and a
refused request (4xx) leaves every table as it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavilion.runtime.context import get_runtime

from .api_apps import Api, api_app, database_snapshot, database_url, token_for  # noqa: F401 - fixture
from .helpers import project_json

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
HOSTILE_TEXT = st.text(st.characters(codec=None), max_size=30) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "\udfff x", "\x1b[31m", "\u202e", "x" * 25_000, "../studies/1", "0", "-1", "1e999"])
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | HOSTILE_TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner,
                                                                                         max_size=3), max_leaves=10)
PATHS = [("name",), ("policy",), ("policy", "name"), ("policy", "min_active"), ("policy", "max_waiting"),
         ("platform",), ("platform", "name"), ("platform", "title"), ("pay",), ("pay", "reward"), ("task",),
         ("task", "title"), ("task", "url"), ("task", "max_waiting_s"), ("extra",)]
ROUTES = ["/projects", "/projects/1/launch", "/projects/1/stop", "/projects/1/expire", "/projects/1/migrate",
          "/projects/2/launch", f"/projects/{2**31}/stop"]


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A valid project description with one part replaced, any JSON at all, deep nesting, or raw bytes."""
    kind = draw(st.sampled_from(["mutated", "any", "deep", "bytes", "migrate"]))
    if kind == "mutated":
        data: Any = copy.deepcopy(project_json())
        path = draw(st.sampled_from(PATHS))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(JSON)
    elif kind == "migrate":
        data = {"worker_id": draw(JSON), **draw(st.dictionaries(HOSTILE_TEXT, JSON, max_size=2))}
    elif kind == "any":
        data = draw(JSON)
    elif kind == "deep":
        depth = draw(st.integers(30, 3000))
        return ("[" * depth + "]" * depth).encode() if draw(st.booleans()) else (
            '{"a":' * depth + "1" + "}" * depth).encode()
    else:
        return draw(st.binary(max_size=200))
    return json.dumps(data).encode("utf-8", "surrogatepass")


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:  # noqa: F811 - the fixture above
    app = api_app(tmp_path, database_url)
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def api(app: Flask) -> Api:
    api = Api(app.test_client(), token_for(app, "alice"))
    assert api.post("/projects", project_json()).status_code == 201
    assert api.post("/projects/1/launch").status_code == 200
    return api


def test_no_body_gives_a_5xx_and_a_refusal_changes_nothing(app: Flask, api: Api) -> None:
    db = get_runtime(app).db
    seen: dict[int, int] = {}

    @given(route=st.sampled_from(ROUTES), body=bodies())
    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(route: str, body: bytes) -> None:
        before = database_snapshot(db)
        response = api.client.post(f"/api{route}", data=body,
                                   headers={**api.headers, "Content-Type": "application/json"})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (route, body[:200], response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert set(response.get_json()) == {"error"}
            assert database_snapshot(db) == before, (route, body[:200])

    fuzz()
    assert seen.get(400, 0) > 0, seen  # the fuzzer did reach the checks
