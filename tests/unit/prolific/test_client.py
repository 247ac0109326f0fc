"""The Prolific HTTP client: token header, backoff on 429/5xx only when asked, errors with Prolific's detail."""

from __future__ import annotations

import httpx
import pytest

from pavilion.runtime.platforms.prolific.client import ProlificClient, ProlificError


def client_with(answers: list[httpx.Response | Exception], sleeps: list[float], **kwargs: float) -> ProlificClient:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["Authorization"] == "Token t0k"
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return ProlificClient(
        "t0k", "https://api.test/api/v1/", sleep=sleeps.append, transport=httpx.MockTransport(handler), **kwargs
    )  # type: ignore[arg-type]


def test_safe_calls_back_off_exponentially_on_429_and_5xx() -> None:
    sleeps: list[float] = []
    answers: list[httpx.Response | Exception] = [
        httpx.Response(429),
        httpx.Response(503),
        httpx.ConnectError("down"),
        httpx.Response(200, json={"ok": 1}),
    ]
    client = client_with(answers, sleeps, backoff_s=1.0, max_backoff_s=3.0)
    assert client.call("GET", "studies/x/", retry=True) == {"ok": 1}
    assert sleeps == [1.0, 2.0, 3.0]  # doubling, capped


def test_unsafe_calls_are_never_repeated() -> None:
    sleeps: list[float] = []
    client = client_with([httpx.Response(502)], sleeps)
    with pytest.raises(ProlificError) as exc:
        client.call("POST", "bulk-bonus-payments/b/pay/")
    assert exc.value.transient and not exc.value.answered and sleeps == []  # a 502 may have applied


def test_4xx_is_permanent_and_carries_the_detail() -> None:
    sleeps: list[float] = []
    body = {"error": {"status": 400, "detail": {"total_available_places": ["cannot be decreased"]}}}
    client = client_with([httpx.Response(400, json=body)], sleeps)
    with pytest.raises(ProlificError, match="total_available_places: cannot be decreased") as exc:
        client.call("PATCH", "studies/x/", {"total_available_places": 1}, retry=True)
    assert not exc.value.transient and exc.value.answered and sleeps == []


def test_giving_up_after_the_last_attempt() -> None:
    sleeps: list[float] = []
    client = client_with([httpx.Response(500)] * 3, sleeps, max_attempts=3, backoff_s=0.5)
    with pytest.raises(ProlificError) as exc:
        client.call("GET", "studies/", retry=True)
    assert exc.value.status == 500 and sleeps == [0.5, 1.0]


def test_pages_follow_next_links() -> None:
    sleeps: list[float] = []
    pages = [
        httpx.Response(200, json={"results": [1, 2], "_links": {"next": {"href": "p2"}}}),
        httpx.Response(200, json={"results": [3], "_links": {"next": None}}),
    ]
    assert list(client_with(pages, sleeps).pages("submissions/", {"study": "s"})) == [1, 2, 3]
