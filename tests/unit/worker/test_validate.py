"""What the /worker namespace accepts from a browser: known events, small payloads, exact fields."""

from __future__ import annotations

from typing import Any

import pytest

from pavilion.runtime.worker.validate import (
    MAX_PAYLOAD_BYTES,
    PayloadError,
    check_event,
    leave_how,
    no_payload,
    token_of,
)


@pytest.mark.parametrize("how", ["submitted", "returned"])
def test_leave_accepts_the_two_ways_a_worker_may_leave(how: str) -> None:
    assert leave_how(({"how": how},)) == how


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "one object payload"),
        (("submitted",), "one object payload"),
        (({"how": "submitted"}, {"how": "submitted"}), "one object payload"),
        (({},), "missing the field 'how'"),
        (({"how": 1},), "must be a string, got int"),
        (({"how": "abandoned"},), "got 'abandoned'"),  # only the server declares an abandonment
        (({"how": "submitted", "worker_id": "someone-else"},), "does not take the field 'worker_id'"),
    ],
)
def test_leave_refuses_anything_else_with_a_message(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        leave_how(args)


def test_heartbeat_and_ready_carry_nothing() -> None:
    for args in ((), (None,), ({},)):
        no_payload("heartbeat", args)
    for args in (({"x": 1},), ("now",), ({}, {})):
        with pytest.raises(PayloadError, match="heartbeat takes no payload"):
            no_payload("heartbeat", args)


def test_unknown_events_and_oversized_or_binary_payloads_are_refused() -> None:
    check_event("leave", ({"how": "submitted"},))
    with pytest.raises(PayloadError, match="unknown event 'join_room'"):
        check_event("join_room", ("worker:other",))
    with pytest.raises(PayloadError, match=f"limit is {MAX_PAYLOAD_BYTES}"):
        check_event("leave", ({"how": "x" * MAX_PAYLOAD_BYTES},))
    with pytest.raises(PayloadError, match="binary"):
        check_event("heartbeat", (b"\x00\x01",))


def test_the_token_comes_from_an_auth_object() -> None:
    assert token_of({"token": "abc"}) == "abc"
    assert token_of(None) is None and token_of({}) is None
    with pytest.raises(PayloadError, match="auth="):
        token_of("abc")
