"""How many simulated workers one rehearsal driver process keeps on time against one `pavilion serve`.

Usage: python benchmarks/rehearsal_load.py [--steps 1,5,10,20,30,40,60,80,100] [--measure 10] [--heartbeat 0.25]

The rehearsal's own pieces run here as they do in `pavilion rehearse`: `pavilion serve` started by
pavilion.rehearsal.server (a fresh SQLite instance), a project made through the JSON API, and each simulated
worker a pavilion.rehearsal.client.SimWorker (python-socketio client and a thread) that loads the local join
link, connects to /worker, and heartbeats every `--heartbeat` seconds (worker.js's 5 s at time scale x20; the
rehearsal's floor of 0.25 s at x60 and above). For each step N, a fresh project that seats everyone (max_active = N,
nobody waits) holds N workers; once all are connected, every heartbeat is measured for `--measure` seconds: how late
the driver sent it (its timer's lateness) and its round trip (heartbeat -> the server's `queue` answer).
The floor is the first step (one worker) in the same run, on the same server; each step prints its ratio to it.
A step is "on time" when every worker is connected, the p99 round trip and the p99 timer lateness are both within
100 ms (1% of the default's shortest mean duration, 600 s of patience, at x60: 6 scenario seconds), and no heartbeat
was sent a whole interval late. The last step on time is the figure.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from pavilion.rehearsal.api import Api
from pavilion.rehearsal.client import SimWorker, start
from pavilion.rehearsal.doors import LocalDoor
from pavilion.rehearsal.plan import PlannedWorker
from pavilion.rehearsal.record import Record
from pavilion.rehearsal.scaling import scale
from pavilion.rehearsal.server import serve
from pavilion.sim import load_scenario

BUDGET_MS = 100.0
JOIN_BATCH = 10  # workers released together while filling a step (each loads a page, then connects)


def hold(api: Api, url: str, n: int, heartbeat_s: float, measure_s: float) -> dict[str, float]:
    """N connected workers in one fresh project; the heartbeats of `measure_s` seconds, measured."""
    scenario = load_scenario(None, overrides={"policy.min_active": 1, "policy.max_active": n,
                                              "policy.min_waiting": 0, "policy.max_waiting": 0})
    scaled = scale(scenario, 60, "local")
    project = api.create_project(scaled.scenario, {"name": "local"}, 60)
    api.launch(project)
    door, record, launched = LocalDoor(url, project), Record(), time.monotonic()
    workers, threads = [], []
    for index in range(n):
        planned = PlannedWorker(index, 0.0, math.inf, math.inf, "submitted", "submitted")
        worker = SimWorker(planned, door, url, lambda: time.monotonic() - launched, record, heartbeat_s)
        workers.append(worker)
        threads.append(start(worker))
        if index % JOIN_BATCH == JOIN_BATCH - 1:
            time.sleep(0.2)
    deadline = time.monotonic() + 120
    while sum(1 for w in workers if w.socket is not None and w.socket.connected) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    connected = sum(1 for w in workers if w.socket is not None and w.socket.connected)
    time.sleep(1.0)  # the joins' fan-out is over
    for w in workers:
        w.outcome.timer_late_s.clear()
        w.outcome.round_trips_s.clear()
    time.sleep(measure_s)
    late, trips = record.timings()
    api.stop(project)  # every page submits
    for thread in threads:
        thread.join(timeout=30)
    for w in workers:
        w.hang_up()
    trips_ms, late_ms = np.array(trips) * 1000, np.array(late) * 1000

    def pct(values: np.ndarray, q: float) -> float:
        return float(np.percentile(values, q)) if values.size else math.nan

    return {"connected": connected, "beats": len(trips), "p50": pct(trips_ms, 50), "p99": pct(trips_ms, 99),
            "late_max": float(late_ms.max(initial=0.0)), "late_p99": pct(late_ms, 99),
            "errors": record.tally()["errors"], "first_errors": record.errors(3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1,5,10,20,30,40,60,80,100")
    parser.add_argument("--measure", type=float, default=10.0, help="seconds measured per step")
    parser.add_argument("--heartbeat", type=float, default=0.25, help="seconds between a worker's heartbeats")
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    with tempfile.TemporaryDirectory(prefix="rehearsal-load-") as workdir:
        server, token = serve(Path(workdir), {"PAVILION_ABANDON_GRACE_S": "5"}, "local")
        api = Api(server.url, token)
        best, floor = 0, None
        try:
            for n in steps:
                started = time.monotonic()
                got = hold(api, server.url, n, args.heartbeat, args.measure)
                if got["first_errors"]:
                    print(f"rehearsal_load: {n} workers: errors {got['first_errors']}", flush=True)
                if floor is None:
                    floor = got
                    print(f"rehearsal_load: floor, 1 worker: heartbeat round trip p50 {got['p50']:.2f} ms, "
                          f"p99 {got['p99']:.2f} ms; timers late p99 {got['late_p99']:.2f} ms", flush=True)
                    continue
                ok = (got["connected"] == n and got["p99"] <= BUDGET_MS and got["late_p99"] <= BUDGET_MS
                      and got["late_max"] <= args.heartbeat * 1000 and got["errors"] == 0)
                print(f"rehearsal_load: {n} workers ({got['connected']} connected, {got['beats']} heartbeats in "
                      f"{args.measure:g} s): round trip p50 {got['p50']:.2f} ms, p99 {got['p99']:.2f} ms "
                      f"({got['p99'] / floor['p99']:.1f}x the floor); timers late p99 {got['late_p99']:.1f} ms "
                      f"({got['late_p99'] / max(floor['late_p99'], 0.01):.0f}x the floor), "
                      f"max {got['late_max']:.1f} ms; on time: {'yes' if ok else 'no'} "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
                if not ok:
                    break
                best = n
        finally:
            api.close()
            server.stop()
    print(f"rehearsal_load: most concurrent simulated workers on time in one driver process: {best} "
          f"(heartbeat every {args.heartbeat:g} s; p99 round trip and p99 timer lateness within {BUDGET_MS:g} ms, "
          f"no heartbeat a whole interval late)")
    return 0


if __name__ == "__main__":
    threading.stack_size(512 * 1024)  # many workers: each client holds a few threads
    sys.exit(main())
