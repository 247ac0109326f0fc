"""PolicyService: the only place that changes queues. One locked transaction per event, then messages and outbox.

The transaction's shape is in `transaction` (shared by every event); the events live by who sends them:
researchers in `projects` (`create_project`, `update_draft`, `launch`, `stop`, `expire`, `migrate`, `snapshot`),
workers in `workers` (`join`, `depart` (source socket|presence|...), `worker_status`, `present`), platforms in
`platform_events` (`platform_departure` (notifications, de-duplicated by key), `reconcile`/`reconcile_all`,
`platform_view`). Refusals raise pavilion.runtime.errors (BadInput 400, NotFound 404, Conflict 409) before anything
is written.
"""

from __future__ import annotations

from pavilion.runtime.service.platform_events import PlatformEvents
from pavilion.runtime.service.projects import ProjectCommands
from pavilion.runtime.service.transaction import MAX_DB_INT, ProjectLocks, Spawn, text_field
from pavilion.runtime.service.workers import JoinResult, WorkerEvents

__all__ = ["MAX_DB_INT", "JoinResult", "PolicyService", "ProjectLocks", "Spawn", "text_field"]


class PolicyService(ProjectCommands, WorkerEvents, PlatformEvents):
    """Launch, join, depart, stop, expire, migrate, snapshot; see the module docstring for the transaction shape."""
