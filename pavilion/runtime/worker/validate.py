"""Checks of what a worker's browser sends on the /worker namespace: size, type, fields, allowed values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_PAYLOAD_BYTES = 1024  # the largest legitimate payload is {"how": "submitted"}; anything far bigger is abuse
LEAVE_HOWS = ("submitted", "returned")
EVENTS = ("heartbeat", "leave", "ready")


class PayloadError(Exception):
    """A socket payload the server refuses; the message names the event and what is wrong."""


def payload_size(args: Sequence[Any]) -> int:
    """Bytes of the JSON encoding of an event's arguments; binary data is refused outright."""
    try:
        return len(json.dumps(list(args), separators=(",", ":")).encode())
    except (TypeError, ValueError):
        raise PayloadError("binary or non-JSON payloads are not accepted") from None


def check_event(event: object, args: Sequence[Any]) -> None:
    """A known event name and a payload of reasonable size."""
    if not isinstance(event, str) or event not in EVENTS:
        name = event if isinstance(event, str) and len(event) <= 40 else "?"
        raise PayloadError(f"unknown event {name!r}; the worker events are {', '.join(EVENTS)}")
    size = payload_size(args)
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"the {event} payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")


def no_payload(event: str, args: Sequence[Any]) -> None:
    """`heartbeat` and `ready` carry nothing (an empty object is tolerated)."""
    if len(args) > 1 or (args and args[0] not in (None, {})):
        raise PayloadError(f"{event} takes no payload")


def leave_how(args: Sequence[Any]) -> str:
    """The `how` of a `leave` payload `{"how": "submitted"|"returned"}`; nothing else is accepted."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise PayloadError('leave needs one object payload: {"how": "submitted" or "returned"}')
    payload = args[0]
    unknown = sorted(str(k) for k in payload if k != "how")
    if unknown:
        # No field may name a worker: the token alone says who is acting.
        raise PayloadError(f"leave does not take the field {unknown[0]!r}; only 'how'")
    if "how" not in payload:
        raise PayloadError("leave is missing the field 'how'")
    how = payload["how"]
    if not isinstance(how, str):
        raise PayloadError(f"leave.how must be a string, got {type(how).__name__}")
    if how not in LEAVE_HOWS:
        raise PayloadError(f"leave.how must be 'submitted' or 'returned', got {how[:40]!r}")
    return how


def token_of(auth: object) -> object:
    """The token from the connect `auth` object; its checking is the token module's job."""
    if auth is None:
        return None
    if not isinstance(auth, dict):
        raise PayloadError('connect with auth={"token": ...}')
    return auth.get("token")
