"""schemathesis fuzzes the JSON API in-process from its own OpenAPI description (GET /api/openapi.json): no 5xx,
every status and body as described, no change to the database from a refused request (issue 17 item 7c)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pavilion.runtime.context import get_runtime

from .api_apps import api_app, database_snapshot, token_for
from .helpers import project_json

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """One app for every case, with a project of the token's admin (id 1) so that ids hit something."""
    tmp = Path(tmp_path_factory.mktemp("schemathesis"))
    app = api_app(tmp, f"sqlite:///{tmp / 'pavilion.sqlite'}")
    token = token_for(app, "alice")
    created = app.test_client().post("/api/projects", json=project_json(),
                                     headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    yield app, token
    get_runtime(app).shutdown()


def _operations() -> list[str]:
    """The described operations, by label ("POST /api/projects", ...), read from a throwaway app's document."""
    from pavilion.runtime.openapi import openapi_document

    paths = openapi_document()["paths"]
    described = [(method.upper(), path) for path, item in paths.items() for method in item]
    return [f"{method} {path}" for method, path in described if path != "/api/openapi.json"]


@pytest.mark.parametrize("label", _operations())
def test_the_api_answers_as_it_describes_itself(served: tuple[Flask, str], label: str) -> None:
    app, token = served
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    (operation,) = [r.ok() for r in schema.get_all_operations() if r.ok().label == label]
    # Valid and invalid cases alike (schemathesis' positive and negative modes): each must be answered as described.
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
        generation_mode=GenerationMode.NEGATIVE)

    @given(case=strategy)
    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        db = get_runtime(app).db
        before = database_snapshot(db)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        seen.add(response.status_code)
        if 400 <= response.status_code < 500:
            assert database_snapshot(db) == before, (case.method, case.formatted_path, response.status_code)

    seen: set[int] = set()
    fuzz()
    assert seen & {400, 404, 409}, seen  # the fuzzer reached the refusals, not only the front door


def test_every_api_route_is_described(served: tuple[Flask, str]) -> None:
    app, _ = served
    described = set(app.test_client().get("/api/openapi.json").get_json()["paths"])
    routes = {rule.rule.replace("<int:project_id>", "{project_id}") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")}
    assert routes == described
