"""The immutable state of one job as the policies see it."""

from __future__ import annotations

from dataclasses import dataclass

from pavilion.core.config import QueueConfig


@dataclass(frozen=True, slots=True)
class JobState:
    """Both queues and the job's phase; policies return new states, never mutate one."""

    config: QueueConfig
    waiting: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    launched: bool = False
    started: bool = False
    recruiting: bool = False
    stopped: bool = False
    expired: bool = False

    def queue_of(self, worker_id: str) -> str | None:
        """Name the queue holding this worker, or None."""
        if worker_id in self.active:
            return "active"
        if worker_id in self.waiting:
            return "waiting"
        return None

    @property
    def size(self) -> int:
        """Workers present in either queue."""
        return len(self.waiting) + len(self.active)
