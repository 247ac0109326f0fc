"""Prolific webhooks: signature and timestamp checks, then the departure a submission event means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

SIGNATURE = "X-Prolific-Request-Signature"
TIMESTAMP = "X-Prolific-Request-Timestamp"
EVENT_ID = "X-Event-ID"
EVENT_TIME = "X-Timestamp"
TOLERANCE_S = 300.0  # a signed request older (or newer) than this is a replay


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name (a plain dict from a test or a framework's header map)."""
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), "")


class WebhookRejected(ValueError):
    """A delivery that fails verification; answered with 401/400 and never acted on."""


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + raw body)), as Prolific signs deliveries."""
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: float = TOLERANCE_S) -> None:
    """Check signature (constant time, over the raw bytes) and request timestamp; raise WebhookRejected."""
    if not secret:
        raise WebhookRejected("no webhook secret configured")
    signature, stamp = header(headers, SIGNATURE), header(headers, TIMESTAMP)
    if not signature or not stamp:
        raise WebhookRejected("unsigned delivery")
    if not hmac.compare_digest(signature, expected_signature(secret, stamp, body)):
        raise WebhookRejected("bad signature")
    try:
        sent = float(stamp)
    except ValueError:
        raise WebhookRejected(f"bad {TIMESTAMP} {stamp!r}") from None
    if abs(now - sent) > tolerance_s:
        raise WebhookRejected(f"stale delivery ({now - sent:.0f} s old)")


def parse(body: bytes) -> dict[str, Any]:
    """The JSON payload; WebhookRejected when it is not an object with `event_type` and `resource_id`."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookRejected("body is not JSON") from None
    if not isinstance(payload, dict) or not payload.get("event_type") or not payload.get("resource_id"):
        raise WebhookRejected("payload lacks event_type or resource_id")
    return payload


def event_time(value: str) -> float | None:
    """X-Timestamp as UNIX seconds (ISO 8601 or a number); None when absent or unreadable."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Freshness:
    """Latest event time seen per resource, so a delivery older than one already handled is dropped as stale."""

    def __init__(self, limit: int = 50_000) -> None:
        self._latest: dict[str, float] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def fresh(self, resource_id: str, at: float | None) -> bool:
        if at is None:
            return True
        with self._lock:
            if at < self._latest.get(resource_id, float("-inf")):
                return False
            if len(self._latest) >= self._limit:
                self._latest.clear()  # memory bound; the status re-read keeps correctness without it
            self._latest[resource_id] = at
            return True
