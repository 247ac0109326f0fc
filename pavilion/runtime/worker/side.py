"""The worker side's objects for one app: tokens, presence, limits, stint cache; reached with `get_worker_side()`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from pavilion.runtime.context import Runtime
from pavilion.runtime.task_tokens import TaskTokens
from pavilion.runtime.tokens import WorkerTokens
from pavilion.runtime.worker.presence import Presence
from pavilion.runtime.worker.presence_table import PresenceTable, new_process_id
from pavilion.runtime.worker.ratelimit import EventLimiter
from pavilion.runtime.worker.stint_cache import StintCache

EXTENSION = "pavilion.worker"


@dataclass
class WorkerSide:
    """What the worker routes, the /worker namespace and the presence sweep share."""

    runtime: Runtime
    tokens: WorkerTokens
    presence: Presence
    grace_s: float
    table: PresenceTable  # what every process sees (pavilion.runtime.worker.presence_table)
    limiter: EventLimiter  # per-socket event limits (pavilion.runtime.worker.ratelimit)
    stints: StintCache  # what heartbeats are answered from (pavilion.runtime.worker.stint_cache)
    task_tokens: TaskTokens  # what the project's own task is told (pavilion.runtime.task_tokens)

    @property
    def flush_s(self) -> float:
        """How often this process writes its sightings: a third of the grace, so a live socket's row stays fresh."""
        return self.grace_s / 3


def build_side(runtime: Runtime) -> WorkerSide:
    """The worker side of a runtime, configured from the app config (secret, token age, abandon grace)."""
    config = runtime.config
    tokens = WorkerTokens(str(config["SECRET_KEY"]), float(config["TOKEN_MAX_AGE_S"]), runtime.clock)
    task_tokens = TaskTokens(str(config["SECRET_KEY"]), float(config["TOKEN_MAX_AGE_S"]), runtime.clock)
    table = PresenceTable(runtime.db, new_process_id())
    limiter = EventLimiter(
        float(config["SOCKET_EVENT_BURST"]), float(config["SOCKET_EVENT_RATE_PER_S"]), int(config["SOCKET_ABUSE_DROPS"])
    )
    stints = StintCache(float(config["HEARTBEAT_CACHE_S"]))
    grace_s = float(config["ABANDON_GRACE_S"])
    return WorkerSide(runtime, tokens, Presence(runtime.clock), grace_s, table, limiter, stints, task_tokens)


def get_worker_side(app: Flask | None = None) -> WorkerSide:
    """The WorkerSide of `app` (default: the current app)."""
    side: WorkerSide = (app or current_app).extensions[EXTENSION]
    return side
