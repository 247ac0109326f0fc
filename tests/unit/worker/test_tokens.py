"""Worker tokens: bound to one stint, signed with the app secret, expiring on the server clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from pavilion.runtime.tokens import MAX_TOKEN_CHARS, SALT, TokenError, WorkerClaim, WorkerTokens


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


CLAIM = WorkerClaim(project_id=3, assignment_key="a1b2c3d4", worker_id="W42")


def test_a_token_round_trips_its_claim() -> None:
    tokens = WorkerTokens("secret", 600, Clock())
    assert tokens.verify(tokens.issue(CLAIM)) == CLAIM


def test_a_token_expires_after_its_max_age_on_the_server_clock() -> None:
    clock = Clock()
    tokens = WorkerTokens("secret", 600, clock)
    token = tokens.issue(CLAIM)
    clock.now += timedelta(seconds=600)
    assert tokens.verify(token) == CLAIM  # still valid at exactly the max age
    clock.now += timedelta(seconds=2)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(token)


def test_another_secret_or_a_tampered_token_is_refused() -> None:
    clock = Clock()
    token = WorkerTokens("secret", 600, clock).issue(CLAIM)
    with pytest.raises(TokenError, match="not valid"):
        WorkerTokens("other secret", 600, clock).verify(token)
    payload, rest = token.split(".", 1)
    forged = URLSafeTimedSerializer("secret", salt="x").dumps({"p": 3, "a": "other", "w": "W42"}).split(".", 1)[0]
    with pytest.raises(TokenError, match="not valid"):
        WorkerTokens("secret", 600, clock).verify(forged + "." + rest)


def test_a_token_signed_for_another_purpose_is_refused() -> None:
    """Same secret, another salt (e.g. Flask's session cookie) never passes as a worker token."""
    other = URLSafeTimedSerializer("secret", salt="cookie-session").dumps({"p": 3, "a": "k", "w": "W"})
    with pytest.raises(TokenError, match="bad signature"):
        WorkerTokens("secret", 600, Clock()).verify(other)


def test_a_validly_signed_token_with_unexpected_content_is_refused() -> None:
    serializer = URLSafeTimedSerializer("secret", salt=SALT)  # signs with the real time, so verify with it too
    tokens = WorkerTokens("secret", 600, lambda: datetime.now(UTC))
    for content in ({"p": "3", "a": "k", "w": "W"}, {"p": 3, "a": "", "w": "W"}, {"p": 3, "a": "k"}, [3, "k", "W"],
                    {"p": True, "a": "k", "w": "W"}, {"p": 3, "a": "k", "w": "W", "extra": 1}):
        with pytest.raises(TokenError, match="unexpected content"):
            tokens.verify(serializer.dumps(content))


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "required"),
        ("", "required"),
        (42, "must be a string, got int"),
        ({"token": "x"}, "must be a string, got dict"),
        ("x" * (MAX_TOKEN_CHARS + 1), "longer than"),
        ("not-a-token", "not valid"),
    ],
)
def test_malformed_tokens_get_a_message_naming_the_problem(token: object, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        WorkerTokens("secret", 600, Clock()).verify(token)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        WorkerTokens("", 600, Clock())
