"""POST /api/task-tokens/verify: a task server asks whether a task token is genuine, with its researcher's API token;
only tokens of that admin's projects are vouched for, and malformed bodies are a 400 naming the problem."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pavilion.runtime.context import get_runtime
from pavilion.runtime.task_tokens import TaskTokens
from pavilion.runtime.tokens import MAX_TOKEN_CHARS, WorkerClaim
from pavilion.runtime.worker.side import get_worker_side

from .api_apps import Api, api_app, token_for
from .helpers import project_json


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = api_app(tmp_path, f"sqlite:///{tmp_path / 'pavilion.sqlite'}")
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def apis(app: Flask) -> tuple[Api, Api]:
    """Alice and Bob, each with a project of their own (ids 1 and 2)."""
    alice, bob = Api(app.test_client(), token_for(app, "alice")), Api(app.test_client(), token_for(app, "bob"))
    assert alice.post("/projects", project_json()).get_json() == {"id": 1}
    assert bob.post("/projects", project_json()).get_json() == {"id": 2}
    return alice, bob


def task_token(app: Flask, project_id: int, key: str = "a1b2c3d4e5f60718", worker: str = "W42") -> str:
    return get_worker_side(app).task_tokens.issue(WorkerClaim(project_id, key, worker))


def test_a_genuine_token_of_the_callers_project_names_who_is_in_the_task(app: Flask, apis: tuple[Api, Api]) -> None:
    alice, _bob = apis
    answer = alice.post("/task-tokens/verify", {"token": task_token(app, 1)})
    assert answer.status_code == 200
    assert answer.get_json() == {"valid": True, "project_id": 1, "worker": "W42", "assignment": "a1b2c3d4e5f60718"}


def test_forged_expired_and_other_admins_tokens_are_not_vouched_for(app: Flask, apis: tuple[Api, Api]) -> None:
    alice, bob = apis
    runtime = get_runtime(app)
    secret, max_age = str(app.config["SECRET_KEY"]), float(app.config["TOKEN_MAX_AGE_S"])
    expired = TaskTokens(secret, max_age, lambda: runtime.clock() - timedelta(seconds=max_age + 5))
    worker_token = get_worker_side(app).tokens.issue(WorkerClaim(1, "a1b2c3d4e5f60718", "W42"))
    cases = [
        (alice, task_token(app, 2), "not for a project of this API token"),  # Bob's project
        (bob, task_token(app, 1), "not for a project of this API token"),
        (alice, task_token(app, 99), "not for a project of this API token"),  # no such project
        (alice, expired.issue(WorkerClaim(1, "k", "W")), "expired"),
        (alice, TaskTokens("another secret", max_age, runtime.clock).issue(WorkerClaim(1, "k", "W")), "bad signature"),
        (alice, worker_token, "bad signature"),  # a worker token is no task token
        (alice, "forged.token.sig", "bad signature"),
    ]
    for api, token, message in cases:
        answer = api.post("/task-tokens/verify", {"token": token})
        assert answer.status_code == 403, (token, answer.get_json())
        assert answer.get_json()["valid"] is False and message in answer.get_json()["error"], answer.get_json()


@pytest.mark.parametrize(("body", "message"), [
    ({}, "missing field 'token'"),
    ({"token": ""}, "missing field 'token'"),
    ({"token": 7}, "missing field 'token'"),
    ({"token": "x", "project_id": 1}, "unknown field 'project_id'"),
    ({"token": "x" * (MAX_TOKEN_CHARS + 1)}, "longer than"),
    (["x"], "must be a JSON object"),
])
def test_malformed_bodies_are_a_400(apis: tuple[Api, Api], body: Any, message: str) -> None:
    alice, _bob = apis
    answer = alice.post("/task-tokens/verify", body)
    assert answer.status_code == 400 and message in answer.get_json()["error"], answer.get_json()


def test_the_api_token_is_required(app: Flask, apis: tuple[Api, Api]) -> None:
    answer = app.test_client().post("/api/task-tokens/verify", json={"token": task_token(app, 1)})
    assert answer.status_code == 401 and "bearer" in answer.get_json()["error"]
    text = apis[0].client.post("/api/task-tokens/verify", data="token=x", headers=apis[0].headers)
    assert text.status_code == 400 and "must be JSON" in text.get_json()["error"]
