"""Simulated events per second of `pavilion.sim` against a hand-written heapq loop of the same model (the floor).

Usage: python benchmarks/sim_speed.py [--horizon-s S] [--seed N] [--repeats R]
Both run the default scenario (1800-s assignment limit, abandoned slots held to the deadline) for a long horizon
in this process. The floor is the same model with nothing else: the same policy steps, the same slot rules, the
same random streams drawn in the same order, a bare heap of tuples, and only the queue-length integrals as
metrics (the stop at the horizon adds no time, so it is left out). It must process exactly the events the
simulator processes (checked), so the ratio is the simulator's own overhead (SimPy's queue, bookkeeping, every
metric). Target: ratio <= 3.
Memory: the simulator's peak traced allocation at the horizon and at 4x it, event log off (should not grow).
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np

from pavilion.core import (
    Action,
    ExpireRecruitment,
    Hire,
    JobLaunched,
    Promote,
    Reject,
    StopAll,
    WorkerJoined,
    WorkerLeft,
)
from pavilion.core import get_policy as policy_named
from pavilion.sim import Scenario, load_scenario, simulate
from pavilion.sim import draws as streams

T = TypeVar("T")
ARRIVAL, SLOTS, SLOT_TAKEN, PATIENCE, DONE, DETECTED, DEADLINE = range(7)


def heapq_floor(scenario: Scenario, seed: int, horizon_s: float) -> tuple[int, float]:
    """The workload model on a bare heap (slot rules included); returns (events processed, mean_active)."""
    w = scenario.workload
    rng = np.random.default_rng(seed)
    a = w.arrivals
    if a.mode == "pooled":
        assert a.rate_per_hour is not None
        gaps = streams.exponentials(3600.0 / a.rate_per_hour, rng)
    else:
        assert a.time_to_fill_s is not None
        gaps = streams.durations(a.time_to_fill_s, rng)
    patience, duration = streams.durations(w.waiting_patience_s, rng), streams.durations(w.active_duration_s, rng)
    detection, hire_delay = streams.durations(w.abandon_detection_s, rng), streams.durations(w.hire_delay_s, rng)
    waiting_exit, active_exit = streams.exits(w.waiting_exit, rng), streams.exits(w.active_exit, rng)
    policy = policy_named(scenario.policy.name)
    step = policy.step
    state = policy.initial_state(scenario.policy.config)
    pooled = w.arrivals.mode == "pooled"
    limit, at_deadline = w.assignment_duration_s, w.abandoned_slot_reopens == "at_deadline"
    heap: list[tuple[float, int, int, object]] = []
    tie = itertools.count()
    workers: dict[str, list[object]] = {}  # id -> [id, queue, vanished, gone]
    open_slots, pending, epoch, next_id, events = 0, False, 0, 0, 0
    area, last, n_active = 0.0, 0.0, 0
    now = 0.0

    def open_slots_now(count: int) -> None:
        nonlocal open_slots, pending
        open_slots += count
        if pooled:
            if not pending:
                pending = True
                heapq.heappush(heap, (now + next(gaps), next(tie), ARRIVAL, None))
        else:
            for _ in range(count):
                heapq.heappush(heap, (now + next(gaps), next(tie), SLOT_TAKEN, epoch))

    def after_step(actions: list[Action]) -> None:
        nonlocal area, last, n_active, epoch, open_slots
        area += n_active * (now - last)
        last, n_active = now, len(state.active)
        for a in actions:
            if type(a) is Promote:
                record = workers[a.worker_id]
                record[1] = "active"
                if not record[2]:
                    heapq.heappush(heap, (now + next(duration), next(tie), DONE, a.worker_id))
            elif type(a) is Hire:
                delay = next(hire_delay)
                if delay == 0:
                    open_slots_now(a.count)
                else:
                    heapq.heappush(heap, (now + delay, next(tie), SLOTS, a.count))
            elif type(a) is Reject:
                open_slots_now(1)
            elif type(a) is ExpireRecruitment:
                open_slots, epoch = 0, epoch + 1
            elif type(a) is StopAll:
                raise StopIteration

    def join() -> None:
        nonlocal state, next_id
        next_id += 1
        wid = f"w{next_id}"
        state, actions = step(state, WorkerJoined(wid, now))
        queue = state.queue_of(wid)
        if queue is not None:
            promoted = any(type(a) is Promote and a.worker_id == wid for a in actions)
            queue = "waiting" if promoted else queue
            record = [wid, queue, False, False]
            workers[wid] = record
            if queue == "active":
                heapq.heappush(heap, (now + next(duration), next(tie), DONE, wid))
            else:
                heapq.heappush(heap, (now + next(patience), next(tie), PATIENCE, wid))
            if limit != float("inf"):
                heapq.heappush(heap, (now + limit, next(tie), DEADLINE, record))
        after_step(actions)

    def leave(wid: str, how: str, reopen: bool = False) -> None:
        nonlocal state
        workers.pop(wid)[3] = True
        state, actions = step(state, WorkerLeft(wid, now, how))  # type: ignore[arg-type]
        if how == "returned" or reopen:
            open_slots_now(1)
        after_step(actions)

    def depart(wid: str, how: str) -> None:
        if how == "abandoned":
            workers[wid][2] = True
            if not at_deadline:
                open_slots_now(1)
            delay = next(detection)
            if delay > 0:
                heapq.heappush(heap, (now + delay, next(tie), DETECTED, wid))
                return
        leave(wid, how)

    state, actions = step(state, JobLaunched(0.0))
    after_step(actions)
    while heap and heap[0][0] < horizon_s:
        now, _, kind, value = heapq.heappop(heap)
        events += 1
        if kind == ARRIVAL:
            pending = False
            if open_slots > 0:
                open_slots -= 1
                join()
            if open_slots > 0 and not pending:
                pending = True
                heapq.heappush(heap, (now + next(gaps), next(tie), ARRIVAL, None))
        elif kind == PATIENCE:
            record = workers.get(value)  # type: ignore[call-overload]
            if record is not None and record[1] == "waiting" and not record[2]:
                depart(value, next(waiting_exit))  # type: ignore[arg-type]
        elif kind == DONE:
            record = workers.get(value)  # type: ignore[call-overload]
            if record is not None and not record[2]:
                depart(value, next(active_exit))  # type: ignore[arg-type]
        elif kind == DETECTED:
            if value in workers:
                leave(str(value), "abandoned")
        elif kind == DEADLINE:
            held = cast("list[object]", value)  # [id, queue, vanished, gone]
            if held[3]:
                if held[2] and at_deadline:
                    open_slots_now(1)
            else:
                leave(str(held[0]), "abandoned", not held[2] or at_deadline)
        elif kind == SLOTS:
            open_slots_now(value)  # type: ignore[arg-type]
        elif kind == SLOT_TAKEN and value == epoch and open_slots > 0:
            open_slots -= 1
            join()
    now = horizon_s
    area += n_active * (now - last)
    return events, area / horizon_s


def best_of(repeats: int, run: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `repeats` timed calls (the machine is shared: the minimum is the least disturbed)."""
    timed: list[tuple[float, T]] = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = run()
        timed.append((time.perf_counter() - t0, out))
    return min(timed, key=lambda pair: pair[0])


def peak_kib(scenario: Scenario, seed: int, horizon_s: float) -> float:
    """Peak traced allocation of one simulate() run, in KiB."""
    gc.collect()
    tracemalloc.start()
    simulate(scenario, seed, horizon_s=horizon_s)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--horizon-s", type=float, default=4.0e7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(None)
    sim_s, result = best_of(args.repeats, lambda: simulate(scenario, args.seed, horizon_s=args.horizon_s))
    floor_s, (floor_events, floor_mean_active) = best_of(
        args.repeats, lambda: heapq_floor(scenario, args.seed, args.horizon_s))
    events = result.events
    same = events == floor_events and abs(result.metrics["mean_active"] - floor_mean_active) < 1e-9
    print(f"sim_speed: default scenario, horizon {args.horizon_s:.3g} s, {events:,} events "
          f"(floor processed {floor_events:,}: {'same run' if same else 'DIFFERENT run'})")
    print(f"sim_speed: pavilion.sim {events / sim_s:,.0f} events/s ({sim_s:.2f} s); "
          f"heapq floor {floor_events / floor_s:,.0f} events/s ({floor_s:.2f} s)")
    ratio = sim_s / floor_s
    print(f"sim_speed: ratio {ratio:.2f}x the floor; target <= 3x: {'met' if ratio <= 3 else 'NOT met'}")
    short = args.horizon_s / 10
    small, large = peak_kib(scenario, args.seed, short), peak_kib(scenario, args.seed, 4 * short)
    print(f"sim_speed: peak traced memory {small:,.0f} KiB at horizon {short:.3g} s, "
          f"{large:,.0f} KiB at {4 * short:.3g} s (event log off; the latency histogram's bins are the bound)")


if __name__ == "__main__":
    main()
