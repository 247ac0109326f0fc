"""The admin side's handles on the running app: the database and the policy service that create_app built."""

from __future__ import annotations

from pavilion.runtime.context import get_runtime
from pavilion.runtime.db import Database
from pavilion.runtime.service import PolicyService


def database() -> Database:
    """The app's Database (engine and session factories)."""
    return get_runtime().db


def service() -> PolicyService:
    """The app's PolicyService, the only writer of queues."""
    return get_runtime().service
