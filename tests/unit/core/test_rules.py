"""Scenario tests: one per rule of the pavilion and on-demand policies (DESIGN.md section 2)."""

from __future__ import annotations

import pytest

from pavilion.core import (
    ExpireRecruitment,
    ExpireRequested,
    Hire,
    JobLaunched,
    JobState,
    MigrationRequested,
    Promote,
    QueueConfig,
    Reject,
    StopAll,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
    get_policy,
)
from pavilion.core.actions import Action
from pavilion.core.events import DepartureKind, Event

CONFIG = QueueConfig(min_active=2, max_active=3, min_waiting=1, max_waiting=3)
PAVILION = get_policy("pavilion")
ON_DEMAND = get_policy("on-demand")


def run(
    events: list[Event], config: QueueConfig = CONFIG, policy_name: str = "pavilion"
) -> tuple[JobState, list[Action]]:
    """Step through events; return the final state and the last event's actions."""
    policy = get_policy(policy_name)
    state = policy.initial_state(config)
    actions: list[Action] = []
    for event in events:
        state, actions = policy.step(state, event)
    return state, actions


def joins(*ids: str) -> list[Event]:
    return [WorkerJoined(worker_id=w, at=float(i)) for i, w in enumerate(ids, start=1)]


def left(worker_id: str, how: DepartureKind) -> WorkerLeft:
    return WorkerLeft(worker_id=worker_id, at=100.0, how=how)


# A started job with both queues full: active w1 w2 w3, waiting w4 w5 w6.
FULL = [JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4", "w5", "w6")]


def test_launch_hires_both_queues_and_opens_recruiting() -> None:
    state, actions = run([JobLaunched(at=0.0)])
    assert actions == [Hire(count=6)]
    assert state.recruiting and state.launched and not state.started


def test_joiners_wait_until_the_start_threshold() -> None:
    state, actions = run([JobLaunched(at=0.0), *joins("w1", "w2")])
    assert actions == []
    assert state.waiting == ("w1", "w2") and state.active == () and not state.started


def test_start_promotes_the_min_active_oldest_together() -> None:
    state, actions = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3")])
    assert actions == [Promote("w1"), Promote("w2")]
    assert state.active == ("w1", "w2") and state.waiting == ("w3",) and state.started


def test_balance_promotes_while_more_than_min_waiting_wait() -> None:
    state, actions = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4")])
    assert actions == [Promote("w3")]
    assert state.active == ("w1", "w2", "w3") and state.waiting == ("w4",)


def test_full_queues_reject_with_job_full() -> None:
    state, _ = run(FULL)
    assert state.active == ("w1", "w2", "w3") and state.waiting == ("w4", "w5", "w6")
    after, actions = PAVILION.step(state, WorkerJoined(worker_id="w7", at=50.0))
    assert actions == [Reject("w7", "job_full")]
    assert after == state


def test_join_before_launch_is_rejected_as_stopped() -> None:
    state, actions = run(joins("w1"))
    assert actions == [Reject("w1", "stopped")]
    assert state.waiting == ()


def test_waiting_submit_hires_one() -> None:
    state, actions = run([*FULL, left("w5", "submitted")])
    assert actions == [Hire(1)]
    assert state.waiting == ("w4", "w6") and state.active == ("w1", "w2", "w3")


@pytest.mark.parametrize("how", ["returned", "abandoned"])
def test_waiting_return_or_abandon_does_nothing(how: DepartureKind) -> None:
    state, actions = run([*FULL, left("w5", how)])
    assert actions == []
    assert state.waiting == ("w4", "w6")


def test_active_submit_promotes_then_hires() -> None:
    state, actions = run([*FULL, left("w2", "submitted")])
    assert actions == [Promote("w4"), Hire(1)]
    assert state.active == ("w1", "w3", "w4") and state.waiting == ("w5", "w6")


@pytest.mark.parametrize("how", ["returned", "abandoned"])
def test_active_return_or_abandon_promotes_without_hiring(how: DepartureKind) -> None:
    state, actions = run([*FULL, left("w1", how)])
    assert actions == [Promote("w4")]
    assert state.active == ("w2", "w3", "w4")


def test_no_promotion_below_min_waiting() -> None:
    # active w1 w2 w3, waiting w4: the last standby is kept in reserve.
    state, actions = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4"), left("w1", "returned")])
    assert actions == []
    assert state.active == ("w2", "w3") and state.waiting == ("w4",)


def test_started_stays_started_when_queues_drain() -> None:
    events = [JobLaunched(at=0.0), *joins("w1", "w2", "w3"), left("w1", "returned"), left("w2", "returned")]
    state, _ = run(events)
    assert state.started and state.active == ()
    state, actions = PAVILION.step(state, WorkerJoined(worker_id="w9", at=60.0))
    assert actions == [Promote("w3")]  # balance, not a second start: one promotion, min_waiting kept
    assert state.waiting == ("w9",)


def test_stop_tells_everyone_and_stops_hiring() -> None:
    state, actions = run([*FULL, StopRequested(at=10.0)])
    assert actions == [StopAll()]
    assert state.stopped and not state.recruiting
    state, actions = PAVILION.step(state, left("w1", "submitted"))
    assert actions == []  # no hire, no promotion after stop
    state, actions = PAVILION.step(state, WorkerJoined(worker_id="w7", at=11.0))
    assert actions == [Reject("w7", "stopped")]


def test_expire_closes_recruitment_but_keeps_promoting() -> None:
    state, actions = run([*FULL, ExpireRequested(at=10.0)])
    assert actions == [ExpireRecruitment()]
    assert state.expired and not state.recruiting and not state.stopped
    state, actions = PAVILION.step(state, left("w1", "submitted"))
    assert actions == [Promote("w4")]  # the slot is consumed, but recruiting is closed: no hire
    _, actions = PAVILION.step(state, WorkerJoined(worker_id="w7", at=11.0))
    assert actions == [Reject("w7", "stopped")]


def test_migrate_is_refused_when_the_active_queue_is_full() -> None:
    state, _ = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4", "w5")])
    # active w1 w2 w3 is full; take w1 out without a replacement reaching active: w4 is promoted by balance.
    state, _ = PAVILION.step(state, left("w1", "returned"))
    assert state.active == ("w2", "w3", "w4") and state.waiting == ("w5",)
    refused, actions = PAVILION.step(state, MigrationRequested(worker_id="w5", at=30.0))
    assert actions == [] and refused == state  # full active queue, no force


def test_migrate_with_room_and_with_force() -> None:
    cfg = QueueConfig(min_active=1, max_active=2, min_waiting=2, max_waiting=3)
    state, _ = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3")], config=cfg)
    assert state.active == ("w1",) and state.waiting == ("w2", "w3")
    state, actions = PAVILION.step(state, MigrationRequested(worker_id="w3", at=5.0))
    assert actions == [Promote("w3")]
    assert state.active == ("w1", "w3") and state.waiting == ("w2",)
    same, actions = PAVILION.step(state, MigrationRequested(worker_id="w2", at=6.0))
    assert actions == [] and same == state
    state, actions = PAVILION.step(state, MigrationRequested(worker_id="w2", at=7.0, force=True))
    assert actions == [Promote("w2")]
    assert state.active == ("w1", "w3", "w2") and state.waiting == ()


@pytest.mark.parametrize(
    "event",
    [
        WorkerJoined(worker_id="w1", at=9.0),  # joins twice
        left("nobody", "submitted"),  # unknown worker
        MigrationRequested(worker_id="w1", at=9.0),  # not waiting: already active
        JobLaunched(at=9.0),  # launched twice
    ],
)
def test_duplicate_and_unknown_events_change_nothing(event: Event) -> None:
    state, _ = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4")])
    after, actions = PAVILION.step(state, event)
    assert actions == [] and after == state


def test_leaving_twice_changes_nothing() -> None:
    state, _ = run([*FULL, left("w4", "submitted")])
    after, actions = PAVILION.step(state, left("w4", "submitted"))
    assert actions == [] and after == state


def test_stop_twice_and_expire_after_stop_change_nothing() -> None:
    state, _ = run([*FULL, StopRequested(at=1.0)])
    for event in (StopRequested(at=2.0), ExpireRequested(at=2.0)):
        after, actions = PAVILION.step(state, event)
        assert actions == [] and after == state


# on-demand ------------------------------------------------------------------------------------------------


def test_on_demand_launch_hires_the_active_queue_only() -> None:
    _, actions = run([JobLaunched(at=0.0)], policy_name="on-demand")
    assert actions == [Hire(3)]


def test_on_demand_joiners_go_straight_to_active_then_job_full() -> None:
    state, actions = run([JobLaunched(at=0.0), *joins("w1", "w2", "w3", "w4")], policy_name="on-demand")
    assert actions == [Reject("w4", "job_full")]
    assert state.active == ("w1", "w2", "w3") and state.waiting == () and state.started


def test_on_demand_replaces_submitters_only() -> None:
    base = [JobLaunched(at=0.0), *joins("w1", "w2", "w3")]
    _, actions = run([*base, left("w1", "submitted")], policy_name="on-demand")
    assert actions == [Hire(1)]
    hows: tuple[DepartureKind, ...] = ("returned", "abandoned")
    for how in hows:
        _, actions = run([*base, left("w1", how)], policy_name="on-demand")
        assert actions == []


def test_on_demand_ignores_migration_and_handles_stop() -> None:
    state, _ = run([JobLaunched(at=0.0), *joins("w1")], policy_name="on-demand")
    same, actions = ON_DEMAND.step(state, MigrationRequested(worker_id="w1", at=1.0, force=True))
    assert actions == [] and same == state
    state, actions = ON_DEMAND.step(state, StopRequested(at=2.0))
    assert actions == [StopAll()]
    _, actions = ON_DEMAND.step(state, left("w1", "submitted"))
    assert actions == []


def test_on_demand_accepts_zero_waiting_parameters() -> None:
    state = ON_DEMAND.initial_state(QueueConfig(min_active=1, max_active=1))
    assert state.config.max_waiting == 0


@pytest.mark.parametrize("policy_name", ["pavilion", "on-demand"])
@pytest.mark.parametrize("closing", [StopRequested(at=0.0), ExpireRequested(at=0.0)])
def test_a_stopped_or_expired_job_never_launches(policy_name: str, closing: Event) -> None:
    state, _ = run([closing], policy_name=policy_name)
    after, actions = get_policy(policy_name).step(state, JobLaunched(at=1.0))
    assert actions == [] and after == state
