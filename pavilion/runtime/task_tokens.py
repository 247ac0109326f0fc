"""Task tokens: what a project's own task (its server or its template) is told about the worker who opens it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import URLSafeTimedSerializer

from pavilion.runtime.tokens import TokenError, WorkerClaim, clocked_signer, signed_payload

# Not the worker token's salt: a task token opens no socket and no live page, and a worker token is no task token.
# Task servers verify offline with URLSafeTimedSerializer(SECRET_KEY, salt=TASK_SALT).loads(token, max_age=...).
TASK_SALT = "pavilion.task-token.v1"
WORKER_PARAM, ASSIGNMENT_PARAM, TOKEN_PARAM = "pavilion_worker", "pavilion_assignment", "pavilion_task_token"
PARAMS = (WORKER_PARAM, ASSIGNMENT_PARAM, TOKEN_PARAM)
PAYLOAD_KEYS = frozenset({"project_id", "worker", "assignment"})


def _claim(data: Any) -> WorkerClaim:
    bad = TokenError("the task token is not valid (unexpected content)")
    if not isinstance(data, dict) or set(data) != PAYLOAD_KEYS:
        raise bad
    project_id, worker, assignment = data["project_id"], data["worker"], data["assignment"]
    if not isinstance(project_id, int) or isinstance(project_id, bool) or project_id < 1:
        raise bad
    if not isinstance(worker, str) or not isinstance(assignment, str) or not worker or not assignment:
        raise bad
    return WorkerClaim(project_id, assignment, worker)


class TaskTokens:
    """Issue and verify task tokens with the app's SECRET_KEY; they expire `max_age_s` after issue."""

    def __init__(self, secret: str, max_age_s: float, clock: Callable[[], datetime]) -> None:
        if not secret:
            raise ValueError("task tokens need a non-empty SECRET_KEY")
        self.max_age_s = int(max_age_s)
        self._serializer = URLSafeTimedSerializer(secret, salt=TASK_SALT, signer=clocked_signer(clock))

    def issue(self, claim: WorkerClaim) -> str:
        """A URL-safe token whose payload is {"project_id", "worker" (platform id), "assignment" (stint key)}."""
        payload = {"project_id": claim.project_id, "worker": claim.worker_id, "assignment": claim.assignment_key}
        return str(self._serializer.dumps(payload))

    def verify(self, token: object) -> WorkerClaim:
        """The claim of a valid, unexpired task token; TokenError says what is wrong otherwise."""
        data = signed_payload(self._serializer, token, self.max_age_s, "task token", "")
        return _claim(data)


def task_params(claim: WorkerClaim, token: str) -> dict[str, str]:
    """The three query parameters (and template variables) that tell a task who is in it."""
    return {WORKER_PARAM: claim.worker_id, ASSIGNMENT_PARAM: claim.assignment_key, TOKEN_PARAM: token}


def with_task_params(url: str, claim: WorkerClaim, token: str) -> str:
    """`url` with the task parameters added; its own query and fragment are kept (pavilion_* ones replaced)."""
    parts = urlsplit(url)
    kept = [piece for piece in parts.query.split("&") if piece and _key(piece) not in PARAMS]  # as written
    query = "&".join([*kept, urlencode(task_params(claim, token))])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _key(piece: str) -> str:
    pairs = parse_qsl(piece, keep_blank_values=True)
    return pairs[0][0] if pairs else piece
