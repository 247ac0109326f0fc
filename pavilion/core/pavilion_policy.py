"""The published Pavilion algorithm: a waiting queue of paid standbys refills the active queue."""

from __future__ import annotations

from collections.abc import Callable

from pavilion.core.actions import Action, ExpireRecruitment, Hire, Promote, Reject, StopAll
from pavilion.core.config import QueueConfig
from pavilion.core.events import (
    Event,
    ExpireRequested,
    JobLaunched,
    MigrationRequested,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
)
from pavilion.core.policy import Step, register
from pavilion.core.state import JobState


def _with_queues(s: JobState, waiting: tuple[str, ...], active: tuple[str, ...], started: bool) -> JobState:
    # Positional construction: the hot path of every simulation goes through here.
    return JobState(s.config, waiting, active, s.launched, started, s.recruiting, s.stopped, s.expired)


def _settle(s: JobState, waiting: tuple[str, ...], active: tuple[str, ...], actions: list[Action]) -> JobState:
    """Apply the start rule, then balance; append the promotions to `actions`."""
    cfg = s.config
    started = s.started
    if s.stopped:
        return _with_queues(s, waiting, active, started)
    if not started and len(waiting) >= cfg.min_active + cfg.min_waiting:
        # The first min_active arrive on the live task together, not one by one.
        n = max(0, min(cfg.min_active, cfg.max_active - len(active)))
        for worker_id in waiting[:n]:
            actions.append(Promote(worker_id))
        active = active + waiting[:n]
        waiting = waiting[n:]
        started = True
    if started:
        n = min(len(waiting) - cfg.min_waiting, cfg.max_active - len(active))
        if n > 0:
            for worker_id in waiting[:n]:
                actions.append(Promote(worker_id))
            active = active + waiting[:n]
            waiting = waiting[n:]
    return _with_queues(s, waiting, active, started)


def _launch(s: JobState, e: JobLaunched) -> Step:
    if s.launched or s.stopped or s.expired:
        return s, []  # a job launches once; a stopped or expired one never re-opens
    cfg = s.config
    new = JobState(cfg, s.waiting, s.active, True, s.started, True, False, False)
    return new, [Hire(cfg.max_active + cfg.max_waiting)]


def _join(s: JobState, e: WorkerJoined) -> Step:
    wid = e.worker_id
    if wid in s.waiting or wid in s.active:
        return s, []
    if not s.recruiting:
        return s, [Reject(wid, "stopped")]
    cfg = s.config
    if len(s.waiting) >= cfg.max_waiting and len(s.active) >= cfg.max_active:
        return s, [Reject(wid, "job_full")]
    actions: list[Action] = []
    return _settle(s, s.waiting + (wid,), s.active, actions), actions


def _leave(s: JobState, e: WorkerLeft) -> Step:
    wid = e.worker_id
    actions: list[Action] = []
    if wid in s.active:
        active = tuple(w for w in s.active if w != wid)
        new = _settle(s, s.waiting, active, actions)
    elif wid in s.waiting:
        waiting = tuple(w for w in s.waiting if w != wid)
        new = _settle(s, waiting, s.active, actions)
    else:
        return s, []
    # A submitted slot is consumed; a returned or abandoned one the platform re-opens itself.
    if e.how == "submitted" and new.recruiting:
        actions.append(Hire(1))
    return new, actions


def _stop(s: JobState, e: StopRequested) -> Step:
    if s.stopped:
        return s, []
    new = JobState(s.config, s.waiting, s.active, s.launched, s.started, False, True, s.expired)
    return new, [StopAll()]


def _expire(s: JobState, e: ExpireRequested) -> Step:
    if s.expired or s.stopped:
        return s, []
    new = JobState(s.config, s.waiting, s.active, s.launched, s.started, False, s.stopped, True)
    return new, [ExpireRecruitment()]


def _migrate(s: JobState, e: MigrationRequested) -> Step:
    wid = e.worker_id
    if s.stopped or wid not in s.waiting:
        return s, []
    if len(s.active) >= s.config.max_active and not e.force:
        return s, []
    waiting = tuple(w for w in s.waiting if w != wid)
    actions: list[Action] = [Promote(wid)]
    return _settle(s, waiting, s.active + (wid,), actions), actions


_HANDLERS: dict[type, Callable[[JobState, object], Step]] = {
    JobLaunched: _launch,  # type: ignore[dict-item]
    WorkerJoined: _join,  # type: ignore[dict-item]
    WorkerLeft: _leave,  # type: ignore[dict-item]
    StopRequested: _stop,  # type: ignore[dict-item]
    ExpireRequested: _expire,  # type: ignore[dict-item]
    MigrationRequested: _migrate,  # type: ignore[dict-item]
}


@register("pavilion")
class PavilionPolicy:
    """Retain paid standbys; promote on active departures, hire on consumed slots."""

    name = "pavilion"
    reads: tuple[str, ...] = ("min_active", "max_active", "min_waiting", "max_waiting")

    def initial_state(self, config: QueueConfig) -> JobState:
        return JobState(config)

    def step(self, state: JobState, event: Event) -> Step:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return state, []
        return handler(state, event)
