"""Signed, expiring worker tokens bound to one (project, assignment key, platform worker id)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "pavilion.worker-token.v1"  # a token made for anything else under the same secret never verifies here
MAX_TOKEN_CHARS = 1024  # real tokens are ~150 characters; longer input is refused before any parsing


class TokenError(Exception):
    """The token is missing, malformed, forged or expired; the message is safe to show the worker."""


@dataclass(frozen=True)
class WorkerClaim:
    """What a valid token vouches for: this browser is this platform worker, in this stint of this project."""

    project_id: int
    assignment_key: str
    worker_id: str  # the platform's worker id


def clocked_signer(clock: Callable[[], datetime]) -> type[TimestampSigner]:
    """A TimestampSigner that reads the server clock (injectable), so expiry is testable without sleeping."""

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return ClockedSigner


def _claim(data: Any) -> WorkerClaim:
    if not isinstance(data, dict) or set(data) != {"p", "a", "w"}:
        raise TokenError("the worker token is not valid (unexpected content)")
    project_id, key, worker = data["p"], data["a"], data["w"]
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise TokenError("the worker token is not valid (unexpected content)")
    if not isinstance(key, str) or not isinstance(worker, str) or not key or not worker:
        raise TokenError("the worker token is not valid (unexpected content)")
    return WorkerClaim(project_id, key, worker)


class WorkerTokens:
    """Issue and verify worker tokens with the app's SECRET_KEY; they expire `max_age_s` after issue."""

    def __init__(self, secret: str, max_age_s: float, clock: Callable[[], datetime]) -> None:
        if not secret:
            raise ValueError("worker tokens need a non-empty SECRET_KEY")
        self.max_age_s = int(max_age_s)
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer=clocked_signer(clock))

    def issue(self, claim: WorkerClaim) -> str:
        """A URL-safe token for `claim`."""
        token = self._serializer.dumps({"p": claim.project_id, "a": claim.assignment_key, "w": claim.worker_id})
        return str(token)

    def verify(self, token: object) -> WorkerClaim:
        """The claim of a valid, unexpired token; TokenError says what is wrong otherwise."""
        data = signed_payload(self._serializer, token, self.max_age_s, "worker token", "; open the task from its link")
        return _claim(data)


def signed_payload(serializer: URLSafeTimedSerializer, token: object, max_age_s: int, what: str, hint: str) -> Any:
    """The payload of a valid, unexpired `what` ("worker token"); TokenError names the fault, `hint` says what to do
    when the token is missing or expired."""
    if token is None or token == "":
        raise TokenError(f"a {what} is required{hint}")
    if not isinstance(token, str):
        raise TokenError(f"the {what} must be a string, got {type(token).__name__}")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(f"the {what} is longer than {MAX_TOKEN_CHARS} characters")
    try:
        return serializer.loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise TokenError(f"the {what} has expired{hint + ' again' if hint else ''}") from None
    except BadSignature:
        raise TokenError(f"the {what} is not valid (bad signature)") from None
