"""The worker side of the live runtime: task pages, the /worker Socket.IO namespace, presence (placeholder)."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, socketio: Any) -> None:
    """Register the worker blueprint and the `/worker` namespace on `app` (the worker package fills this in)."""
    del app, socketio
