"""The admin side of the live runtime: login, project forms, launch/stop/expire/migrate, dashboard, ledger, CSV."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, socketio: Any) -> None:
    """Register the admin blueprint and the `/admin` Socket.IO namespace on `app` (filled in as the seams land)."""
    del app, socketio
