"""Step 1,000,000 random events through the pavilion policy; compare with a bare dict-dispatch floor.

Usage: python benchmarks/core_speed.py [--events N] [--seed S]
The events are generated first (not timed); the floor is a loop that dispatches the same events on their type
to a function that only returns its inputs, so the ratio is the cost of the policy's rules themselves.
"""

from __future__ import annotations

import argparse
import random
import time

from pavilion.core import (
    Event,
    JobLaunched,
    QueueConfig,
    WorkerJoined,
    WorkerLeft,
    get_policy,
)


def make_events(n: int, seed: int) -> list[Event]:
    """A churning stream: joins of fresh ids and departures of ids that joined recently (some unknown)."""
    rng = random.Random(seed)
    events: list[Event] = [JobLaunched(at=0.0)]
    present: list[str] = []
    hows = ("submitted", "returned", "abandoned")
    for i in range(1, n):
        if not present or rng.random() < 0.5:
            wid = f"w{i}"
            present.append(wid)
            events.append(WorkerJoined(worker_id=wid, at=float(i)))
        else:
            wid = present.pop(rng.randrange(len(present)))
            events.append(WorkerLeft(worker_id=wid, at=float(i), how=rng.choice(hows)))  # type: ignore[arg-type]
        if len(present) > 12:
            present.pop(0)  # forget some: their later departures never come, like rejected workers
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    events = make_events(args.events, args.seed)

    policy = get_policy("pavilion")
    state = policy.initial_state(QueueConfig(min_active=2, max_active=3, min_waiting=1, max_waiting=3))
    step = policy.step
    t0 = time.perf_counter()
    for event in events:
        state, _ = step(state, event)
    policy_s = time.perf_counter() - t0

    table = {type(e): (lambda s, e: (s, [])) for e in events}
    floor_state: object = state
    t0 = time.perf_counter()
    for event in events:
        floor_state, _ = table[type(event)](floor_state, event)
    floor_s = time.perf_counter() - t0

    n = len(events)
    print(f"core_speed: {n:,} events through 'pavilion' in {policy_s:.2f} s ({n / policy_s:,.0f} events/s)")
    print(f"core_speed: dispatch-only floor {floor_s:.2f} s ({n / floor_s:,.0f} events/s); "
          f"ratio {policy_s / floor_s:.1f}x; target < 5 s: {'met' if policy_s < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
