"""One simulated job: the workload model of DESIGN.md section 3 on SimPy, with every rule left to the policy.

Events are SimPy events with plain callbacks (no process per worker), scheduled straight on the environment's
queue; a timer that no longer applies (a promoted worker's patience, say) is ignored when it fires.

Instants the design leaves open, fixed here:
- A returned, abandoned or rejected worker's slot re-opens at once, as DESIGN.md section 3 says: for an
  abandonment that is the instant the worker vanishes, not the later instant the policy is told. A submitted
  slot is consumed (the policy hires again).
- Until detected (`abandon_detection_s` after vanishing), an abandoning worker (a ghost) holds its queue place:
  it counts in the queue lengths and may even be promoted; it never submits or leaves again. Meanwhile the
  re-opened slot may bring a newcomer who finds the queues full of ghosts: that is where `job_full` rejects come
  from in this model.
- `Hire(n)` opens n slots after one `hire_delay_s` draw. Pooled arrivals that find no open slot are lost and not
  counted: `arrivals` counts workers who took a slot (and so were seen by the policy, joined or rejected).
- `StopAll` ends the run at that instant (the model itself never requests a stop, so runs end at horizon_s).
- A worker who submits is paid the reward plus waiting and active wages for the time spent in each queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from simpy.core import Environment
from simpy.events import NORMAL, Event

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
    get_policy,
)
from pavilion.core.events import DepartureKind
from pavilion.sim import draws
from pavilion.sim.eventlog import Row
from pavilion.sim.metrics import MetricsRecorder, PayRates
from pavilion.sim.scenario import Scenario


class _Stopped(Exception):
    """Raised inside a callback to end the run on StopAll."""


class Worker:
    """A worker holding a place in a queue (ghosts included)."""

    __slots__ = ("joined_at", "promoted_at", "queue", "vanished")

    def __init__(self, joined_at: float, queue: str) -> None:
        self.joined_at = joined_at
        self.promoted_at = joined_at if queue == "active" else math.nan
        self.queue = queue
        self.vanished = False


class Simulation:
    """The imperative shell around one policy: it carries out actions and turns timers into policy events."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, horizon_s: float,
                 event_log: bool = False, timeline: bool = False) -> None:
        w, p = scenario.workload, scenario.payment
        self.horizon_s = horizon_s
        self.env = Environment()
        self.policy = get_policy(scenario.policy.name)
        self.state = self.policy.initial_state(scenario.policy.config)
        self.pooled = w.arrivals.mode == "pooled"
        self.arrival_gaps = draws.exponentials(3600.0 / w.arrivals.rate_per_hour, rng)
        self.patience = draws.durations(w.waiting_patience_s, rng)
        self.duration = draws.durations(w.active_duration_s, rng)
        self.detection = draws.durations(w.abandon_detection_s, rng)
        self.hire_delay = draws.durations(w.hire_delay_s, rng)
        self.waiting_exit = draws.exits(w.waiting_exit, rng)
        self.active_exit = draws.exits(w.active_exit, rng)
        self.open_slots = 0
        self.slot_epoch = 0  # bumped when recruitment is withdrawn: older per-slot timers are void
        self.arrival_pending = False
        self.workers: dict[str, Worker] = {}
        self.next_id = 0
        self.events = 0
        self.started = False
        cfg = scenario.policy
        pay = PayRates(p.reward, p.waiting_wage_per_hour, p.active_wage_per_hour, p.platform_fee)
        self.metrics = MetricsRecorder(scenario.run.warmup_s, cfg.min_active, cfg.max_active, pay)
        self.log: list[Row] | None = [] if event_log else None
        self.timeline: list[tuple[float, int, int]] | None = [(0.0, 0, 0)] if (timeline or event_log) else None

    # -- scheduling -------------------------------------------------------------------------------------------
    def _after(self, delay: float, callback: Callable[[Event], None], value: object) -> None:
        """Call callback(event) `delay` seconds from now, event.value being `value` (inf: never)."""
        if delay == math.inf:
            return
        # Timeout.__init__ inlined without its checks: this is the hot path of every run.
        ev = Event.__new__(Event)
        ev.env = self.env
        ev.callbacks = [callback]
        ev._value = value
        ev._ok = True
        self.env.schedule(ev, NORMAL, delay)

    def run(self) -> float:
        """Launch the job and run to the horizon (or a StopAll); return the end time."""
        try:
            self._apply(0.0, self._step(JobLaunched(at=0.0)))
            self.env.run(until=self.horizon_s)
        except _Stopped:
            return float(self.env.now)
        return self.horizon_s

    # -- the policy -------------------------------------------------------------------------------------------
    def _step(self, event: JobLaunched | WorkerJoined | WorkerLeft) -> list[Action]:
        self.state, actions = self.policy.step(self.state, event)
        state = self.state
        now = event.at
        self.metrics.queues(now, len(state.active), len(state.waiting))
        if state.started and not self.started:
            self.started = True
            self.metrics.started(now)
        if self.timeline is not None:
            last = self.timeline[-1]
            if last[1] != len(state.waiting) or last[2] != len(state.active):
                self.timeline.append((now, len(state.waiting), len(state.active)))
        if isinstance(event, JobLaunched) and self.log is not None:
            self.log.append((now, "", "launched", "", ""))
        return actions

    def _apply(self, now: float, actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Promote:
                self._promoted(now, action.worker_id)
            elif type(action) is Hire:
                self._hire(now, action.count)
            elif type(action) is Reject:
                self._rejected(now, action.worker_id, action.reason)
            elif type(action) is StopAll:
                if self.log is not None:
                    self.log.append((now, "", "stop", "", ""))
                raise _Stopped
            elif type(action) is ExpireRecruitment:
                self._withdraw(now)

    # -- slots and arrivals -----------------------------------------------------------------------------------
    def _hire(self, now: float, count: int) -> None:
        self.metrics.count(now, "hires", count)
        if self.log is not None:
            self.log.append((now, "", "hire", "", str(count)))
        delay = next(self.hire_delay)
        if delay == 0:
            self._open(count)
        else:
            self._after(delay, self._on_slots_open, count)

    def _on_slots_open(self, ev: Event) -> None:
        self.events += 1
        self._open(ev._value)

    def _open(self, count: int) -> None:
        self.open_slots += count
        if self.pooled:
            if not self.arrival_pending:
                # Poisson arrivals are memoryless: restarting the clock when slots re-appear changes nothing.
                self.arrival_pending = True
                self._after(next(self.arrival_gaps), self._on_arrival, None)
        else:
            for _ in range(count):
                self._after(next(self.arrival_gaps), self._on_slot_taken, self.slot_epoch)

    def _withdraw(self, now: float) -> None:
        if self.log is not None:
            self.log.append((now, "", "expire", "", ""))
        self.open_slots = 0
        self.slot_epoch += 1

    def _on_arrival(self, ev: Event) -> None:
        self.events += 1
        self.arrival_pending = False
        if self.open_slots > 0:
            self.open_slots -= 1
            self._join()
        if self.open_slots > 0 and not self.arrival_pending:
            self.arrival_pending = True
            self._after(next(self.arrival_gaps), self._on_arrival, None)

    def _on_slot_taken(self, ev: Event) -> None:
        self.events += 1
        if ev._value == self.slot_epoch and self.open_slots > 0:
            self.open_slots -= 1
            self._join()

    # -- workers ----------------------------------------------------------------------------------------------
    def _join(self) -> None:
        now = float(self.env.now)
        self.next_id += 1
        wid = f"w{self.next_id}"
        self.metrics.count(now, "arrivals")
        actions = self._step(WorkerJoined(wid, now))
        queue = self.state.queue_of(wid)
        if queue is not None:
            promoted = any(type(a) is Promote and a.worker_id == wid for a in actions)
            worker = Worker(now, "waiting" if promoted else queue)
            self.workers[wid] = worker
            if worker.queue == "active":
                self._after(next(self.duration), self._on_active_done, wid)
            else:
                self._after(next(self.patience), self._on_patience_over, wid)
            queue = worker.queue
        if self.log is not None:
            self.log.append((now, wid, "joined", queue or "", ""))
        self._apply(now, actions)

    def _rejected(self, now: float, wid: str, reason: str) -> None:
        self.metrics.count(now, "rejected")
        if self.log is not None:
            self.log.append((now, wid, "rejected", "", reason))
        self._open(1)

    def _promoted(self, now: float, wid: str) -> None:
        worker = self.workers[wid]
        self.metrics.waited(now, now - worker.joined_at)
        worker.queue = "active"
        worker.promoted_at = now
        if self.log is not None:
            self.log.append((now, wid, "promoted", "active", ""))
        if not worker.vanished:
            self._after(next(self.duration), self._on_active_done, wid)

    def _on_patience_over(self, ev: Event) -> None:
        self.events += 1
        worker = self.workers.get(ev._value)
        if worker is not None and worker.queue == "waiting" and not worker.vanished:
            self._depart(ev._value, worker, next(self.waiting_exit))  # type: ignore[arg-type]

    def _on_active_done(self, ev: Event) -> None:
        self.events += 1
        worker = self.workers.get(ev._value)
        if worker is not None and not worker.vanished:
            self._depart(ev._value, worker, next(self.active_exit))  # type: ignore[arg-type]

    def _depart(self, wid: str, worker: Worker, how: DepartureKind) -> None:
        if how == "abandoned":
            worker.vanished = True
            self._open(1)
            delay = next(self.detection)
            if delay > 0:
                self._after(delay, self._on_detected, wid)
                return
        self._left(float(self.env.now), wid, how)

    def _on_detected(self, ev: Event) -> None:
        self.events += 1
        self._left(float(self.env.now), ev._value, "abandoned")

    def _left(self, now: float, wid: str, how: DepartureKind) -> None:
        """The policy sees the departure; pay a submitter, re-open a returned slot (an abandoned one already is)."""
        worker = self.workers.pop(wid)
        active_before = len(self.state.active)
        actions = self._step(WorkerLeft(wid, now, how))
        self.metrics.count(now, how)
        if worker.queue == "waiting":
            self.metrics.waited(now, now - worker.joined_at)
        else:
            self.metrics.active_departure(now, active_before)
        if how == "submitted":
            promoted_at = worker.promoted_at if worker.queue == "active" else now
            self.metrics.paid(now, promoted_at - worker.joined_at, now - promoted_at)
        elif how == "returned":
            self._open(1)
        if self.log is not None:
            self.log.append((now, wid, how, worker.queue, ""))
        self._apply(now, actions)


def simulate_once(scenario: Scenario, rng: np.random.Generator, horizon_s: float, *, event_log: bool = False,
                  timeline: bool = False) -> tuple[dict[str, float], list[Row] | None,
                                                   list[tuple[float, int, int]] | None, int]:
    """Run one replication: (metrics, event log rows, timeline rows, events processed)."""
    sim = Simulation(scenario, rng, horizon_s, event_log, timeline)
    end = sim.run()
    return sim.metrics.finish(end), sim.log, sim.timeline, sim.events

