"""Task tokens: what a project's own task is told (its own salt), the task address's parameters, and the README's
offline check run against real tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

from pavilion.runtime.task_tokens import PARAMS, TASK_SALT, TaskTokens, task_params, with_task_params
from pavilion.runtime.tokens import MAX_TOKEN_CHARS, SALT, TokenError, WorkerClaim, WorkerTokens

README = Path(__file__).resolve().parents[3] / "README.md"
CLAIM = WorkerClaim(project_id=3, assignment_key="a1b2c3d4", worker_id="W42")


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_task_token_round_trips_its_claim_and_expires_on_the_injected_clock() -> None:
    clock = Clock()
    tokens = TaskTokens("secret", 600, clock)
    token = tokens.issue(CLAIM)
    assert tokens.verify(token) == CLAIM
    clock.now += timedelta(seconds=600)
    assert tokens.verify(token) == CLAIM  # still valid at exactly the max age
    clock.now += timedelta(seconds=2)
    with pytest.raises(TokenError, match="the task token has expired"):
        tokens.verify(token)


def test_worker_and_task_tokens_never_pass_for_each_other() -> None:
    clock = Clock()
    assert TASK_SALT != SALT
    worker_token = WorkerTokens("secret", 600, clock).issue(CLAIM)
    task_token = TaskTokens("secret", 600, clock).issue(CLAIM)
    with pytest.raises(TokenError, match="bad signature"):
        TaskTokens("secret", 600, clock).verify(worker_token)
    with pytest.raises(TokenError, match="bad signature"):
        WorkerTokens("secret", 600, clock).verify(task_token)
    with pytest.raises(TokenError, match="bad signature"):
        TaskTokens("another secret", 600, clock).verify(task_token)


def test_the_payload_is_the_documented_one_and_anything_else_is_refused() -> None:
    now = datetime.now(UTC)
    serializer = URLSafeTimedSerializer("secret", salt=TASK_SALT)
    token = TaskTokens("secret", 600, lambda: now).issue(CLAIM)
    assert serializer.loads(token) == {"project_id": 3, "worker": "W42", "assignment": "a1b2c3d4"}
    tokens = TaskTokens("secret", 600, lambda: datetime.now(UTC))
    for content in ({"project_id": "3", "worker": "W", "assignment": "k"}, {"project_id": 0, "worker": "W",
                    "assignment": "k"}, {"project_id": True, "worker": "W", "assignment": "k"},
                    {"project_id": 3, "worker": "", "assignment": "k"}, {"project_id": 3, "worker": "W"},
                    {"p": 3, "a": "k", "w": "W"}, [3, "W", "k"]):
        with pytest.raises(TokenError, match="unexpected content"):
            tokens.verify(serializer.dumps(content))


@pytest.mark.parametrize(("token", "message"), [
    (None, "required"), ("", "required"), (7, "must be a string, got int"),
    ("x" * (MAX_TOKEN_CHARS + 1), "longer than"), ("not-a-token", "bad signature"),
])
def test_malformed_task_tokens_are_named(token: object, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        TaskTokens("secret", 600, Clock()).verify(token)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        TaskTokens("", 600, Clock())


def test_the_task_address_gets_three_parameters_and_keeps_its_own_query_and_fragment() -> None:
    token = TaskTokens("secret", 600, Clock()).issue(CLAIM)
    url = with_task_params("https://robot.example/drive?room=7&x=a%20b&pavilion_task_token=old#go", CLAIM, token)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path, parts.fragment) == ("robot.example", "/drive", "go")
    assert parts.query.startswith("room=7&x=a%20b&")  # the project's own parameters as it wrote them
    query = parse_qs(parts.query)
    assert query == {"room": ["7"], "x": ["a b"], **{k: [v] for k, v in task_params(CLAIM, token).items()}}
    assert sorted(task_params(CLAIM, token)) == sorted(PARAMS)
    assert with_task_params("/task/3/content", CLAIM, token).startswith("/task/3/content?pavilion_worker=W42&")


def readme_offline_check() -> Any:
    """The README's `who_is_in_it`, as a task server would paste it."""
    text = README.read_text(encoding="utf-8").split("### The task's side: who is in it\n", 1)[1]
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["who_is_in_it"]


def test_the_readme_offline_check_accepts_a_real_token_and_refuses_the_rest() -> None:
    who_is_in_it = readme_offline_check()
    fresh = TaskTokens("shared secret", 600, lambda: datetime.now(UTC)).issue(CLAIM)
    assert who_is_in_it(fresh, "shared secret", 600) == {"project_id": 3, "worker": "W42", "assignment": "a1b2c3d4"}
    old = TaskTokens("shared secret", 600, Clock(datetime(2020, 1, 1, tzinfo=UTC))).issue(CLAIM)
    worker_token = WorkerTokens("shared secret", 600, lambda: datetime.now(UTC)).issue(CLAIM)
    for token, secret in ((fresh, "another secret"), (old, "shared secret"), (worker_token, "shared secret")):
        with pytest.raises(PermissionError, match="not a valid task token"):
            who_is_in_it(token, secret, 600)
