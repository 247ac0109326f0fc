"""The webhook endpoint Prolific posts to: POST /prolific/webhook/<project_id>, fed into the policy service."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, request

from pavilion.runtime.platforms.base import PlatformError
from pavilion.runtime.platforms.prolific.webhooks import WebhookRejected

log = logging.getLogger(__name__)


def blueprint() -> Blueprint:
    """Signed deliveries only; a departure reaches the service de-duplicated on the event id."""
    from pavilion.runtime.context import get_runtime
    from pavilion.runtime.errors import NotFound
    from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform

    bp = Blueprint("prolific_webhooks", __name__)

    @bp.post("/prolific/webhook/<int:project_id>")
    def webhook(project_id: int) -> tuple[str, int] | Response:
        service = get_runtime().service
        try:
            adapter, view = service.platform_view(project_id)
        except NotFound:
            return "", 404
        if not isinstance(adapter, ProlificPlatform):
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
            service.platform_departure(project_id, gone, source="webhook")
        return "", 204

    return bp


def init_app(app: Flask, *_: Any) -> None:
    """Register the webhook route, exempt from CSRF (deliveries are authenticated by their HMAC signature)."""
    if "prolific_webhooks" in app.blueprints:
        return  # registered already (create_app and a test may both ask)
    bp = blueprint()
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
