"""Failed admin logins are throttled with Flask-Limiter, per client address and per username."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _username() -> str:
    return "user:" + str(request.form.get("username", ""))[:80]


def _failed(response: Response) -> bool:
    # Only a wrong password counts (401): a correct login, a form without its CSRF token, a GET never do.
    return response.status_code == 401


def storage_uri(config: Any) -> str:
    """Where the counters live: RATELIMIT_STORAGE_URI, else the Redis of MESSAGE_QUEUE (shared by every server
    process), else this process's memory."""
    queue = str(config.get("MESSAGE_QUEUE") or "")
    return str(config.get("RATELIMIT_STORAGE_URI") or (queue if queue.startswith("redis") else "") or "memory://")


def throttle_login(app: Flask, view: Callable[..., Any]) -> Callable[..., Any]:
    """`view` with the failed-login limits of the app's config (LOGIN_LIMIT_PER_IP, LOGIN_LIMIT_PER_USER)."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri(app.config), default_limits=[],
                      strategy="moving-window")
    app.extensions["pavilion_limiter"] = limiter
    per_ip = str(app.config.get("LOGIN_LIMIT_PER_IP", "20 per minute"))
    per_user = str(app.config.get("LOGIN_LIMIT_PER_USER", "5 per minute"))
    by_user = limiter.limit(per_user, key_func=_username, methods=["POST"], deduct_when=_failed)
    by_ip = limiter.limit(per_ip, methods=["POST"], deduct_when=_failed)
    return by_ip(by_user(view))
