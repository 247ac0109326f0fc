"""`Policy.reads`: the config fields a policy's rules use; configs equal on them must behave identically."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from pavilion.core import POLICIES, JobLaunched, QueueConfig, StopRequested, WorkerJoined, WorkerLeft, get_policy
from pavilion.core.events import Event

FIELDS = tuple(f.name for f in dataclasses.fields(QueueConfig))


def test_every_policy_names_fields_of_the_config() -> None:
    for name in POLICIES:
        reads = get_policy(name).reads
        assert reads and set(reads) <= set(FIELDS) and len(set(reads)) == len(reads), name
    assert get_policy("pavilion").reads == FIELDS
    assert get_policy("on-demand").reads == ("min_active", "max_active")


events = st.lists(st.one_of(
    st.builds(WorkerJoined, worker_id=st.sampled_from([f"w{i}" for i in range(8)]), at=st.just(1.0)),
    st.builds(WorkerLeft, worker_id=st.sampled_from([f"w{i}" for i in range(8)]), at=st.just(2.0),
              how=st.sampled_from(["submitted", "returned", "abandoned"])),
    st.just(StopRequested(at=3.0)),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(events=events, waiting=st.tuples(st.integers(0, 3), st.integers(0, 3)), other=st.tuples(st.integers(0, 3),
                                                                                                 st.integers(0, 3)))
def test_fields_a_policy_does_not_read_change_nothing(events: list[Event], waiting: tuple[int, int],
                                                      other: tuple[int, int]) -> None:
    """on-demand with any two waiting sizes: the same actions and queues after every event."""
    policy = get_policy("on-demand")
    a = QueueConfig(2, 3, min(waiting), max(waiting))
    b = QueueConfig(2, 3, min(other), max(other))
    sa, sb = policy.initial_state(a), policy.initial_state(b)
    for event in [JobLaunched(at=0.0), *events]:
        sa, actions_a = policy.step(sa, event)
        sb, actions_b = policy.step(sb, event)
        assert actions_a == actions_b
        assert (sa.waiting, sa.active, sa.started, sa.recruiting) == (sb.waiting, sb.active, sb.started, sb.recruiting)


def test_pavilion_reads_its_waiting_sizes() -> None:
    """Launch hires max_active + max_waiting, and the start waits for min_active + min_waiting: both matter."""
    policy = get_policy("pavilion")
    hires = [policy.step(policy.initial_state(QueueConfig(2, 3, 0, w)), JobLaunched(at=0.0))[1] for w in (1, 2)]
    assert hires[0] != hires[1]
    started = []
    for min_waiting in (0, 1):
        state = policy.initial_state(QueueConfig(2, 3, min_waiting, 2))
        state, _ = policy.step(state, JobLaunched(at=0.0))
        for w in ("w1", "w2"):
            state, _ = policy.step(state, WorkerJoined(w, at=1.0))
        started.append(state.started)
    assert started == [True, False]
