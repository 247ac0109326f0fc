"""Property tests: the policies' invariants hold over random event sequences (Hypothesis state machines)."""

from __future__ import annotations

import copy

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pavilion.core import (
    ExpireRequested,
    Hire,
    JobLaunched,
    JobState,
    MigrationRequested,
    Promote,
    QueueConfig,
    Reject,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
    get_policy,
)
from pavilion.core.actions import Action
from pavilion.core.events import Event

configs = st.builds(
    lambda min_a, extra_a, min_w, extra_w: QueueConfig(min_a, min_a + extra_a, min_w, min_w + extra_w),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(0, 2),
)
HOWS = st.sampled_from(["submitted", "returned", "abandoned"])


class PavilionMachine(RuleBasedStateMachine):
    """Drive one policy with random events and check the invariants after each step."""

    policy_name = "pavilion"

    def __init__(self) -> None:
        super().__init__()
        self.policy = get_policy(self.policy_name)
        self.clock = 0.0
        self.next_id = 0
        self.hired = 0
        self.expected_hires = 0
        self.forced = False
        self.hired_after_stop = False

    @initialize(config=configs)
    def start(self, config: QueueConfig) -> None:
        self.state: JobState = self.policy.initial_state(config)

    def apply(self, event: Event) -> list[Action]:
        before = self.state
        snapshot = copy.deepcopy(before)
        was_stopped = before.stopped
        self.state, actions = self.policy.step(before, event)
        assert before == snapshot, "step mutated its input state"
        hires = sum(a.count for a in actions if isinstance(a, Hire))
        self.hired += hires
        if was_stopped and hires:
            self.hired_after_stop = True
        for action in actions:
            if isinstance(action, Promote):
                assert action.worker_id in self.state.active and action.worker_id not in self.state.waiting
            if isinstance(action, Reject):
                assert self.state == before, "a rejected join changed the queues"
        if not actions:
            # No actions also means nothing changed, except a join or a quiet departure.
            assert isinstance(event, (WorkerJoined, WorkerLeft)) or self.state == before
        return actions

    def tick(self) -> float:
        self.clock += 1.0
        return self.clock

    @rule()
    def launch(self) -> None:
        if not (self.state.launched or self.state.stopped or self.state.expired):
            cfg = self.state.config
            self.expected_hires += self.launch_posting(cfg)
        self.apply(JobLaunched(at=self.tick()))

    def launch_posting(self, cfg: QueueConfig) -> int:
        return cfg.max_active + cfg.max_waiting

    @rule()
    def new_worker_joins(self) -> None:
        self.next_id += 1
        self.apply(WorkerJoined(worker_id=f"w{self.next_id}", at=self.tick()))

    @precondition(lambda self: self.state.size > 0)
    @rule(data=st.data())
    def present_worker_joins_again(self, data: st.DataObject) -> None:
        wid = data.draw(st.sampled_from(self.state.waiting + self.state.active))
        before = self.state
        actions = self.apply(WorkerJoined(worker_id=wid, at=self.tick()))
        assert actions == [] and self.state == before

    @precondition(lambda self: self.state.size > 0)
    @rule(data=st.data(), how=HOWS)
    def present_worker_leaves(self, data: st.DataObject, how: str) -> None:
        wid = data.draw(st.sampled_from(self.state.waiting + self.state.active))
        if how == "submitted" and self.state.recruiting:
            self.expected_hires += 1
        self.apply(WorkerLeft(worker_id=wid, at=self.tick(), how=how))  # type: ignore[arg-type]
        assert self.state.queue_of(wid) is None

    @rule(how=HOWS)
    def unknown_worker_leaves(self, how: str) -> None:
        before = self.state
        actions = self.apply(WorkerLeft(worker_id="ghost", at=self.tick(), how=how))  # type: ignore[arg-type]
        assert actions == [] and self.state == before

    @rule()
    def stop(self) -> None:
        self.apply(StopRequested(at=self.tick()))

    @rule()
    def expire(self) -> None:
        self.apply(ExpireRequested(at=self.tick()))

    @precondition(lambda self: len(self.state.waiting) > 0)
    @rule(data=st.data(), force=st.booleans())
    def migrate(self, data: st.DataObject, force: bool) -> None:
        wid = data.draw(st.sampled_from(self.state.waiting))
        actions = self.apply(MigrationRequested(worker_id=wid, at=self.tick(), force=force))
        if force and actions and len(self.state.active) > self.state.config.max_active:
            self.forced = True

    @invariant()
    def a_worker_is_in_at_most_one_queue(self) -> None:
        everyone = self.state.waiting + self.state.active
        assert len(everyone) == len(set(everyone))

    @invariant()
    def active_never_exceeds_max_unless_forced(self) -> None:
        assert self.forced or len(self.state.active) <= self.state.config.max_active

    @invariant()
    def balanced_once_started(self) -> None:
        s, cfg = self.state, self.state.config
        if s.started and not s.stopped and self.policy_name == "pavilion":
            assert len(s.waiting) <= cfg.min_waiting or len(s.active) >= cfg.max_active

    @invariant()
    def no_hires_after_stop(self) -> None:
        assert not self.hired_after_stop

    @invariant()
    def hires_equal_launch_posting_plus_consumed_slots(self) -> None:
        assert self.hired == self.expected_hires


class OnDemandMachine(PavilionMachine):
    """The same invariants for the on-demand baseline, which keeps no waiting queue."""

    policy_name = "on-demand"

    def launch_posting(self, cfg: QueueConfig) -> int:
        return cfg.max_active

    @invariant()
    def never_anyone_waiting(self) -> None:
        assert self.state.waiting == ()


PavilionMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
OnDemandMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestPavilionPolicy = PavilionMachine.TestCase
TestOnDemandPolicy = OnDemandMachine.TestCase
