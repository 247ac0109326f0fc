"""Webhook set-up on the emulator (secrets, subscriptions, confirm) and how a delivery is signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.errors import ApiError
from pavilion.emulators.prolific.state import EmulatorState

EVENT_TYPES = ("submission.status.change", "study.status.change", "study.progress.change", "study.has_high_return_rate")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """X-Prolific-Request-Signature: base64(HMAC-SHA256(secret, timestamp + raw body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _workspace(state: EmulatorState, body: dict[str, Any]) -> str:
    workspace_id = str(body.get("workspace_id") or "")
    if workspace_id != state.workspace_id:
        raise ApiError(400, {"workspace_id": ["Unknown workspace."]})
    return workspace_id


def create_secret(state: EmulatorState, body: dict[str, Any]) -> dict[str, str]:
    """A new signing secret replaces the workspace's previous one (only one is active)."""
    workspace_id = _workspace(state, body)
    value = base64.b64encode(secrets.token_bytes(48)).decode()
    state.secrets[workspace_id] = value
    return {"id": state.new_id(), "value": value, "workspace_id": workspace_id}


def create_subscription(state: EmulatorState, body: dict[str, Any], allow_http: bool) -> m.Subscription:
    workspace_id = _workspace(state, body)
    event_type = body.get("event_type")
    if event_type not in EVENT_TYPES:
        raise ApiError(400, {"event_type": [f"{event_type!r} is not a valid event type."]})
    target = str(body.get("target_url") or "")
    if not (target.startswith("https://") or (allow_http and target.startswith("http://"))):
        raise ApiError(400, {"target_url": ["A public https URL is required."]})
    sub = m.Subscription(state.new_id(), workspace_id, str(event_type), target, secrets.token_hex(16))
    state.subscriptions[sub.id] = sub
    return sub


def confirm_subscription(state: EmulatorState, subscription_id: str, body: dict[str, Any]) -> m.Subscription:
    sub = subscription(state, subscription_id)
    if not hmac.compare_digest(str(body.get("secret") or ""), sub.hook_secret):
        raise ApiError(400, {"secret": ["The secret does not match the X-Hook-Secret of this subscription."]})
    sub.confirmed = True
    return sub


def subscription(state: EmulatorState, subscription_id: str) -> m.Subscription:
    if subscription_id not in state.subscriptions:
        raise ApiError(404, "Not found.")
    return state.subscriptions[subscription_id]


def update_subscription(state: EmulatorState, subscription_id: str, body: dict[str, Any]) -> m.Subscription:
    sub = subscription(state, subscription_id)
    if "event_type" in body:
        if body["event_type"] not in EVENT_TYPES:
            raise ApiError(400, {"event_type": ["Not a valid event type."]})
        sub.event_type = str(body["event_type"])
    if "target_url" in body:
        sub.target_url = str(body["target_url"])
    if "is_enabled" in body:
        sub.is_enabled = bool(body["is_enabled"])
    return sub


def subscription_json(sub: m.Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "workspace_id": sub.workspace_id,
        "event_type": sub.event_type,
        "target_url": sub.target_url,
        "is_enabled": sub.is_enabled and sub.confirmed,
    }
