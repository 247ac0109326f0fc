"""The service is a faithful shell: random event sequences give the pure policy's queues, and the database agrees."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pavilion.core import QueueConfig, get_policy
from pavilion.core.events import JobLaunched, MigrationRequested, StopRequested, WorkerJoined, WorkerLeft
from pavilion.runtime.errors import Conflict
from pavilion.runtime.models import Assignment
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.platforms.base import Identity
from pavilion.runtime.service import PolicyService

from .fakes import RecordingPlatform
from .helpers import new_project

steps = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, 0)),
        st.tuples(st.sampled_from(["submitted", "returned", "abandoned"]), st.integers(0, 9)),
        st.tuples(st.just("migrate"), st.integers(0, 9)),
        st.tuples(st.just("stop"), st.integers(0, 0)),
    ),
    max_size=18,
)


@pytest.mark.timeout(120)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=st.sampled_from(["pavilion", "on-demand"]), script=steps)
def test_random_sessions_match_the_core(database, clock, policy: str, script: list[tuple[str, int]]) -> None:
    platform = RecordingPlatform()  # unlimited slots: the policy alone decides who gets in
    service = PolicyService(database, MemoryNotifier(), clock, {}, platform_factory=platform.factory)
    pid = new_project(service, policy=policy, min_active=1, max_active=2, min_waiting=1, max_waiting=2)
    core = get_policy(policy)
    state, _ = core.step(core.initial_state(QueueConfig(1, 2, 1, 2)), JobLaunched(at=0.0))
    service.launch(pid)
    keys: list[str] = []
    for n, (what, pick) in enumerate(script):
        clock.advance(5)
        if what == "join" and state.stopped:
            with pytest.raises(Conflict):  # the service refuses before the policy would reject
                service.join(pid, platform_identity(pid, n))
        elif what == "join":
            key = service.join(pid, platform_identity(pid, n)).assignment_key
            keys.append(key)
            state, _ = core.step(state, WorkerJoined(key, at=0.0))
        elif what == "stop":
            if state.stopped:
                continue
            service.stop(pid)
            state, _ = core.step(state, StopRequested(at=0.0))
        elif keys and what == "migrate":
            key = keys[pick % len(keys)]
            with contextlib.suppress(Conflict):  # refused: the core must then leave the state as it was
                service.migrate(pid, key)
            state, _ = core.step(state, MigrationRequested(key, at=0.0))
        elif keys:
            key = keys[pick % len(keys)]
            service.depart(pid, key, what, "socket")
            state, _ = core.step(state, WorkerLeft(key, at=0.0, how=what))  # type: ignore[arg-type]
        snap = service.snapshot(pid)
        assert (snap["waiting"], snap["active"]) == (list(state.waiting), list(state.active))
    with database.session_scope() as s:
        present = {
            a.key: a.queue
            for a in s.scalars(select(Assignment).where(Assignment.project_id == pid))
            if a.left_at is None
        }
    assert present == {k: state.queue_of(k) for k in state.waiting + state.active}


def platform_identity(pid: int, n: int) -> Identity:
    return Identity(f"P{pid}W{n}", f"P{pid}A{n}")
