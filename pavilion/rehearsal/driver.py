"""One live replication: create and launch the project, release the planned workers on time, stop, collect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pavilion.rehearsal.api import Api
from pavilion.rehearsal.client import Door, SimWorker, start
from pavilion.rehearsal.plan import plan
from pavilion.rehearsal.record import Record
from pavilion.rehearsal.scaling import Scaled
from pavilion.rehearsal.server import Process

SETTLE_S = 30.0  # after the stop, wait this long at most for every page to submit and every payment to go out
HEARTBEAT_S = 5.0  # worker.js sends a heartbeat this often (scaled like every other interval)


@dataclass
class Replication:
    """What one live replication left: the server's event log and counts, the driver's record, the kills."""

    index: int
    project_id: int
    events_csv: str
    record: Record
    counts: dict[str, Any]
    planned: int
    kills: int
    wall_s: float


@dataclass
class Chaos:
    """kill -9 and restart the server every `every_s` scaled seconds (0: never), in a thread of its own."""

    server: Process | None
    every_s: float
    kills: int = 0
    halt: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        if self.server is None or self.every_s <= 0:
            return
        while not self.halt.wait(self.every_s):
            self.server.kill()
            self.kills += 1
            self.server.start()


def settle(api: Api, project_id: int, threads: list[threading.Thread]) -> dict[str, Any]:
    """Wait for the pages to submit and the ledger to be paid; the final counts."""
    deadline = time.monotonic() + SETTLE_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    deadline = time.monotonic() + SETTLE_S  # the ledger gets its own wait, and is read at least once
    while True:
        counts: dict[str, Any] = api.snapshot(project_id)["counts"]
        if counts.get("paid", 0) >= counts.get("submitted", 0) or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def run_replication(api: Api, door_for: Callable[[int], Door], server_url: str, scaled: Scaled, index: int,
                    seed: np.random.SeedSequence, platform: dict[str, Any], server: Process | None = None,
                    kill_every_s: float = 0.0, progress: Callable[[float], None] | None = None) -> Replication:
    """Run the planned workers of `seed` against a fresh project; `kill_every_s` in scaled seconds."""
    scenario = scaled.scenario
    planned = plan(scenario, seed)
    project_id = api.create_project(scenario, platform, scaled.factor)
    door = door_for(project_id)
    record = Record()
    heartbeat_s = max(0.25, HEARTBEAT_S / scaled.factor)
    chaos = Chaos(server, kill_every_s)
    api.launch(project_id)
    launched = time.monotonic()

    def since_launch() -> float:
        return time.monotonic() - launched

    chaos_thread = threading.Thread(target=chaos.run, name="rehearsal-chaos", daemon=True)
    chaos_thread.start()
    threads: list[threading.Thread] = []
    workers: list[SimWorker] = []
    horizon = scenario.run.horizon_s
    try:
        for worker in planned:
            _sleep_until(since_launch, worker.arrive_s, progress)
            sim = SimWorker(worker, door, server_url, since_launch, record, heartbeat_s)
            workers.append(sim)
            threads.append(start(sim))
        _sleep_until(since_launch, horizon, progress)
        chaos.halt.set()
        chaos_thread.join()
        api.stop(project_id)
        counts = settle(api, project_id, threads)
        events = api.events_csv(project_id)
        for sim in workers:
            if not sim.outcome.finished:
                sim.outcome.errors.append(f"still {sim.outcome.stage} {SETTLE_S:g} s after the stop")
    finally:
        chaos.halt.set()
        for sim in workers:
            sim.hang_up()
    return Replication(index, project_id, events, record, counts, len(planned), chaos.kills, since_launch())


def _sleep_until(clock: Callable[[], float], at: float, progress: Callable[[float], None] | None) -> None:
    while True:
        left = at - clock()
        if progress is not None:
            progress(clock())
        if left <= 0:
            return
        time.sleep(min(left, 0.5))
