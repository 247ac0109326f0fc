"""The on-demand baseline: hire exactly the active queue, keep no standbys."""

from __future__ import annotations

from collections.abc import Callable

from pavilion.core.actions import Action, ExpireRecruitment, Hire, Reject, StopAll
from pavilion.core.config import QueueConfig
from pavilion.core.events import (
    Event,
    ExpireRequested,
    JobLaunched,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
)
from pavilion.core.policy import Step, register
from pavilion.core.state import JobState


def _launch(s: JobState, e: JobLaunched) -> Step:
    if s.launched or s.stopped or s.expired:
        return s, []  # a job launches once; a stopped or expired one never re-opens
    return JobState(s.config, (), s.active, True, s.started, True, False, False), [Hire(s.config.max_active)]


def _join(s: JobState, e: WorkerJoined) -> Step:
    wid = e.worker_id
    if wid in s.active:
        return s, []
    if not s.recruiting:
        return s, [Reject(wid, "stopped")]
    cfg = s.config
    if len(s.active) >= cfg.max_active:
        return s, [Reject(wid, "job_full")]
    active = s.active + (wid,)
    # "Started" means the active queue first reached min_active, so metrics compare with pavilion.
    started = s.started or len(active) >= cfg.min_active
    return JobState(cfg, (), active, s.launched, started, s.recruiting, s.stopped, s.expired), []


def _leave(s: JobState, e: WorkerLeft) -> Step:
    if e.worker_id not in s.active:
        return s, []
    active = tuple(w for w in s.active if w != e.worker_id)
    new = JobState(s.config, (), active, s.launched, s.started, s.recruiting, s.stopped, s.expired)
    actions: list[Action] = [Hire(1)] if e.how == "submitted" and s.recruiting else []
    return new, actions


def _stop(s: JobState, e: StopRequested) -> Step:
    if s.stopped:
        return s, []
    return JobState(s.config, (), s.active, s.launched, s.started, False, True, s.expired), [StopAll()]


def _expire(s: JobState, e: ExpireRequested) -> Step:
    if s.expired or s.stopped:
        return s, []
    return JobState(s.config, (), s.active, s.launched, s.started, False, False, True), [ExpireRecruitment()]


_HANDLERS: dict[type, Callable[[JobState, object], Step]] = {
    JobLaunched: _launch,  # type: ignore[dict-item]
    WorkerJoined: _join,  # type: ignore[dict-item]
    WorkerLeft: _leave,  # type: ignore[dict-item]
    StopRequested: _stop,  # type: ignore[dict-item]
    ExpireRequested: _expire,  # type: ignore[dict-item]
}


@register("on-demand")
class OnDemandPolicy:
    """Fill the active queue directly from arrivals; replace only consumed slots."""

    name = "on-demand"
    reads: tuple[str, ...] = ("min_active", "max_active")  # no waiting queue

    def initial_state(self, config: QueueConfig) -> JobState:
        return JobState(config)

    def step(self, state: JobState, event: Event) -> Step:
        # Migration has nobody to move: there is no waiting queue.
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return state, []
        return handler(state, event)
