"""Shared helpers for the runtime service tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pavilion.runtime.db import Database
from pavilion.runtime.models import Assignment, EventLog, Outbox, Payment, Project
from pavilion.runtime.projects import parse_project
from pavilion.runtime.service import PolicyService


def project_json(policy: str = "pavilion", **overrides: Any) -> dict[str, Any]:
    """A project description as the API takes it (2..3 active, 1..3 waiting by default)."""
    queues = {"min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3}
    queues.update({k: v for k, v in overrides.items() if k in queues})
    data: dict[str, Any] = {
        "name": "test session",
        "policy": {"name": policy, **queues},
        "platform": {"name": "local"},
        "pay": {"reward": "0.10", "waiting_wage_per_hour": "7.25", "active_wage_per_hour": "12"},
        "task": {"title": "Steer the robot", "url": "https://task.test/live"},
    }
    data.update({k: v for k, v in overrides.items() if k not in queues})
    return data


def new_project(service: PolicyService, policy: str = "pavilion", **overrides: Any) -> int:
    return service.create_project(parse_project(project_json(policy, **overrides)))


def table_counts(db: Database) -> dict[str, int]:
    """Row counts and the project versions: equal before and after a refused request means nothing changed."""
    with db.session_scope() as session:
        counts = {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Project, Assignment, EventLog, Outbox, Payment)
        }
        counts["versions"] = int(session.scalar(select(func.sum(Project.version))) or 0)
        return counts
