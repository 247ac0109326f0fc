"""The webhook endpoint Prolific posts to: POST /prolific/webhook/<project_id>, reported to the platform host."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from flask import Blueprint, Flask, Response, request

from pavilion.runtime.platforms.base import Departure, PlatformError, PlatformHost, PlatformProject
from pavilion.runtime.platforms.prolific.webhooks import WebhookRejected

log = logging.getLogger(__name__)


class WebhookReceiver(Protocol):
    """The adapter side of a delivery (the ProlificPlatform, handed in by its `init_app`: no import cycle)."""

    def webhook(self, project: PlatformProject, headers: Mapping[str, str], body: bytes) -> Departure | None: ...


def blueprint(host: PlatformHost, receiver: type[WebhookReceiver]) -> Blueprint:
    """Signed deliveries only; a departure reaches the host de-duplicated on the event id."""
    bp = Blueprint("prolific_webhooks", __name__)

    @bp.post("/prolific/webhook/<int:project_id>")
    def webhook(project_id: int) -> tuple[str, int] | Response:
        try:
            adapter, view = host.platform_view(project_id)
        except LookupError:
            return "", 404
        if not isinstance(adapter, receiver):
            return "", 404
        try:
            gone = adapter.webhook(view, dict(request.headers.items()), request.get_data())
        except WebhookRejected as exc:
            log.warning("Prolific webhook for project %s refused: %s", project_id, exc)
            return "", 401
        except PlatformError as exc:
            if not exc.transient:  # e.g. a submission Prolific does not show us: nothing of ours
                log.warning("Prolific webhook for project %s ignored: %s", project_id, exc)
                return "", 204
            log.warning("Prolific webhook for project %s not confirmed yet: %s", project_id, exc)
            return "", 503  # Prolific retries; reconciliation catches it otherwise
        if gone is not None:
            host.platform_departure(project_id, gone, source="notification")
        return "", 204

    return bp


def init_app(app: Flask, host: PlatformHost, receiver: type[WebhookReceiver]) -> None:
    """Register the webhook route, exempt from CSRF (deliveries are authenticated by their HMAC signature)."""
    if "prolific_webhooks" in app.blueprints:
        return  # registered already (create_app and a test may both ask)
    bp = blueprint(host, receiver)
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
