"""The Runtime: everything create_app builds for one app (database, Socket.IO, service, clock), and the loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from pavilion.runtime.config import Clock
from pavilion.runtime.db import Database
from pavilion.runtime.jobs import AdvisoryLocks, Everyone, JobLog, wall_clock
from pavilion.runtime.notify import Notifier
from pavilion.runtime.service import PolicyService

log = logging.getLogger(__name__)

# Jobs every process runs for itself (its own sockets' sightings); all others run in one process at a time.
PER_PROCESS_JOBS = frozenset({"presence-flush"})


@dataclass
class Periodic:
    """A job of the background loop: `fn()` every `every_s` seconds (in one process at a time unless per_process)."""

    name: str
    every_s: float
    fn: Callable[[], Any]
    next_at: float = 0.0
    per_process: bool = False


@dataclass
class Runtime:
    """What the worker pages, the admin pages and the API reach through `get_runtime()`."""

    config: Mapping[str, Any]
    db: Database
    socketio: Any
    notifier: Notifier
    service: PolicyService
    clock: Clock
    periodic: list[Periodic] = field(default_factory=list)
    owners: Everyone | AdvisoryLocks = field(default_factory=Everyone)  # who runs which job (pavilion.runtime.jobs)
    job_log: JobLog = field(default_factory=lambda: JobLog(""))
    on_claim: dict[str, Callable[[], Any]] = field(default_factory=dict)  # run when this process takes a job over
    _stop: threading.Event = field(default_factory=threading.Event)
    _started: bool = False

    def add_periodic(self, name: str, every_s: float, fn: Callable[[], Any], per_process: bool = False) -> None:
        """Run `fn` every `every_s` seconds in the background loop (e.g. the presence sweep); one job per name."""
        if any(job.name == name for job in self.periodic):
            return  # hooked twice into one app (create_app and a test may both ask)
        self.periodic.append(Periodic(name, every_s, fn, per_process=per_process or name in PER_PROCESS_JOBS))

    def run_due(self, now: float | None = None) -> None:
        """Run the periodic jobs that are due and this process's; one failing job never stops the others."""
        now = time.monotonic() if now is None else now
        for job in self.periodic:
            if now < job.next_at:
                continue
            job.next_at = now + job.every_s
            if not job.per_process and not self._owns(job):
                continue
            try:
                self.job_log.ran(job.name, wall_clock())
                job.fn()
            except Exception:
                log.exception("background job %s failed", job.name)

    def _owns(self, job: Periodic) -> bool:
        """Whether this process runs `job` now; a job just taken over first runs one interval later."""
        claim = self.owners.claim(job.name)
        if claim == "new":
            hook = self.on_claim.get(job.name)
            if hook is not None:
                try:
                    hook()
                except Exception:
                    log.exception("taking over background job %s failed", job.name)
        return claim == "owner"

    def start_background(self) -> None:
        """Recover the outbox, then run the periodic jobs in a Socket.IO background task until `shutdown`."""
        if self._started:
            return
        self._started = True
        self.socketio.start_background_task(self._loop)
        self.socketio.start_background_task(self._refresh_loop)

    def _loop(self) -> None:
        if isinstance(self.owners, Everyone):  # one process: recover now; else whoever takes the outbox over does
            try:
                self.service.outbox.recover()
            except Exception:
                log.exception("outbox recovery failed")
        while not self._stop.is_set():
            self.run_due()
            self.socketio.sleep(1.0)

    def _refresh_loop(self) -> None:
        """Coalesced `queue` messages and snapshots, apart from the slower jobs so they never wait behind them."""
        every_s = float(self.config["QUEUE_REFRESH_S"])
        while not self._stop.is_set():
            self.socketio.sleep(every_s)
            self.service.refresh()

    def shutdown(self) -> None:
        """Stop the background loop, let go of its jobs and close the database pool."""
        self._stop.set()
        self.owners.close()
        self.db.dispose()


def get_runtime(app: Flask | None = None) -> Runtime:
    """The Runtime of `app` (default: the current app)."""
    runtime: Runtime = (app or current_app).extensions["pavilion"]
    return runtime
