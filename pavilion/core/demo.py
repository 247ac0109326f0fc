"""A scripted trace through the pavilion policy, for the README and a first look (`pavilion demo`)."""

from __future__ import annotations

from collections.abc import Iterator

from pavilion.core.config import QueueConfig
from pavilion.core.events import Event, JobLaunched, WorkerJoined, WorkerLeft
from pavilion.core.policy import get_policy


def trace() -> Iterator[str]:
    """Yield one line per event: the event, the actions, and both queues after it."""
    policy = get_policy("pavilion")
    state = policy.initial_state(QueueConfig(min_active=2, max_active=3, min_waiting=1, max_waiting=3))
    script: list[Event] = [JobLaunched(at=0.0)]
    script += [WorkerJoined(worker_id=f"w{i}", at=10.0 * i) for i in range(1, 7)]
    script += [
        WorkerLeft(worker_id="w1", at=70.0, how="submitted"),
        WorkerLeft(worker_id="w2", at=80.0, how="returned"),
        WorkerLeft(worker_id="w6", at=90.0, how="abandoned"),
        WorkerJoined(worker_id="w7", at=100.0),
    ]
    for event in script:
        state, actions = policy.step(state, event)
        done = ", ".join(repr(a) for a in actions) or "-"
        yield f"{event!r:60} -> {done}\n{'':60}    waiting={list(state.waiting)} active={list(state.active)}"

