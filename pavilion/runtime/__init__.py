"""The live runtime: a Flask-SocketIO server that runs a pavilion.core policy against real crowd workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Any = None) -> Flask:
    """Build the runtime app (see pavilion.runtime.app.create_app); imported lazily so importing is cheap."""
    from pavilion.runtime.app import create_app as build

    return build(config)


__all__ = ["create_app"]
