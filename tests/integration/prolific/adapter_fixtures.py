"""Helpers for adapter tests: a project view that carries the adapter's state forward, as the service does."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import PlatformAssignment, PlatformProject
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform
from pavilion.runtime.service import PolicyService

from .conftest import TOKEN


@dataclass
class Project:
    """A project as the service would hold it: the view, updated with what hire/expire/stop return."""

    view: PlatformProject
    keys: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, result: dict[str, Any] | None) -> None:
        if result is not None:
            self.view = replace(self.view, state=result)

    def next_key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"


def make_project(project_id: int = 1, status: str = "live") -> Project:
    view = PlatformProject(
        id=project_id,
        name="Live study",
        settings={},
        state={},
        task={"title": "A real-time task", "description": "Wait, then work together."},
        pay={"reward": "1.50", "waiting_wage_per_hour": "7.25", "active_wage_per_hour": "12.00"},
        public_url="http://127.0.0.1:9",
        status=status,
    )
    return Project(view)


def make_adapter(running: RunningEmulator, clock: ManualClock, db_url: str, **settings: Any) -> ProlificPlatform:
    config = {
        "PROLIFIC_TOKEN": TOKEN,
        "PROLIFIC_API_URL": running.api_url,
        "DATABASE_URL": db_url,
        "PROLIFIC_BACKOFF_S": 0.001,
    }
    adapter = ProlificPlatform({"webhooks": False, **settings}, config, clock=clock.now)
    adapter.bind(host(db_url, config))  # the bonus journal lives in the host's database, as when serving
    return adapter


def host(db_url: str, config: dict[str, Any]) -> PolicyService:
    """The runtime's PlatformHost on `db_url`: a real PolicyService, as create_app builds it."""
    return PolicyService(Database(make_engine(db_url)), MemoryNotifier(), lambda: datetime.now(UTC), config)


def assignment(sub: dict[str, Any], key: str = "a1") -> PlatformAssignment:
    return PlatformAssignment(key=key, worker_id=sub["participant"], assignment_id=sub["id"])
