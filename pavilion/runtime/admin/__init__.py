"""The admin side of the live runtime: login, project forms, launch/stop/expire/migrate, dashboard, ledger, CSV."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, url_for


def init_app(app: Flask, socketio: Any) -> None:
    """Register the admin blueprint (under /admin) and the `/admin` Socket.IO namespace on `app`."""
    from pavilion.runtime.admin.auth import register_login
    from pavilion.runtime.admin.dashboard import AdminNamespace
    from pavilion.runtime.admin.views import register_views
    from pavilion.runtime.notify import ADMIN_NAMESPACE

    bp = Blueprint("admin", __name__, url_prefix="/admin", static_folder="static", static_url_path="/static")
    register_login(app, bp)
    register_views(bp)
    app.register_blueprint(bp)
    app.add_url_rule("/", "home", lambda: redirect(url_for("admin.projects")))  # the login page when logged out
    namespace = AdminNamespace(ADMIN_NAMESPACE)
    socketio.on_namespace(namespace)
    app.extensions["pavilion_admin_namespace"] = namespace  # logout closes that login's sockets
