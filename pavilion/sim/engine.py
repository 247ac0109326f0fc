"""One simulated job: the workload model of DESIGN.md section 3 on SimPy, with every rule left to the policy.

Events are SimPy events with plain callbacks (no process per worker), scheduled straight on the environment's
queue; a timer that no longer applies (a promoted worker's patience, say) is ignored when it fires.

Instants the design leaves open, fixed here:
- A returned or rejected worker's slot re-opens at once; an abandoned one when the worker vanishes (`at_once`) or
  at the assignment's deadline (`at_deadline`), whether or not the policy has seen the abandonment by then. A
  submitted slot is consumed (the policy hires again).
- Until detected (`abandon_detection_s` after vanishing), an abandoning worker (a ghost) holds its queue place:
  it counts in the queue lengths and may even be promoted; it never submits or leaves again. Meanwhile a
  re-opened slot may bring a newcomer who finds the queues full of ghosts: that is where `job_full` rejects come
  from in this model. A ghost still undetected at its deadline is timed out then (logged `abandoned`, detail
  `timeout`), like anyone else still present.
- `Hire(n)` opens n slots after one `hire_delay_s` draw. Pooled arrivals that find no open slot are lost and not
  counted: `arrivals` counts workers who took a slot (and so were seen by the policy, joined or rejected).
- At horizon_s the job is stopped (`StopRequested`); on `StopAll` every present worker who has not vanished
  submits at that instant (detail `stop`) and the run ends. Ghosts are left as they are (nobody is paid for them).
- Same-instant order: a timer's policy step runs whole (its own row, then its actions in order) before the next.
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
    StopRequested,
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
    """A worker holding a place in a queue (ghosts included); what they are paid is the metrics' business."""

    __slots__ = ("gone", "queue", "vanished", "wid")

    def __init__(self, wid: str, queue: str) -> None:
        self.wid = wid
        self.queue = queue
        self.vanished = False
        self.gone = False  # the policy has seen them leave


class Simulation:
    """The imperative shell around one policy: it carries out actions and turns timers into policy events."""

    def __init__(self, scenario: Scenario, rng: dict[str, np.random.Generator], horizon_s: float,
                 event_log: bool = False, timeline: bool = False) -> None:
        w, p = scenario.workload, scenario.payment
        self.horizon_s = horizon_s
        self.env = Environment()
        self.policy = get_policy(scenario.policy.name)
        self.state = self.policy.initial_state(scenario.policy.config)
        self.pooled = w.arrivals.mode == "pooled"
        if self.pooled:
            assert w.arrivals.rate_per_hour is not None
            self.arrival_gaps = draws.exponentials(3600.0 / w.arrivals.rate_per_hour, rng["arrivals"])
        else:
            assert w.arrivals.time_to_fill_s is not None
            self.arrival_gaps = draws.durations(w.arrivals.time_to_fill_s, rng["fill_times"])
        self.patience = draws.durations(w.waiting_patience_s, rng["patience"])
        self.duration = draws.durations(w.active_duration_s, rng["active_durations"])
        self.detection = draws.durations(w.abandon_detection_s, rng["detection"])
        self.hire_delay = draws.durations(w.hire_delay_s, rng["hire_delay"])
        self.waiting_exit = draws.exits(w.waiting_exit, rng["waiting_exits"])
        self.active_exit = draws.exits(w.active_exit, rng["active_exits"])
        self.limit_s = w.assignment_duration_s
        self.reopen_at_deadline = w.abandoned_slot_reopens == "at_deadline"
        self.open_slots = 0
        self.slot_epoch = 0  # bumped when recruitment is withdrawn: older per-slot timers are void
        self.arrival_pending = False
        self.workers: dict[str, Worker] = {}
        self.next_id = 0
        self.events = 0
        cfg = scenario.policy
        pay = PayRates(p.reward, p.waiting_wage_per_hour, p.active_wage_per_hour, p.platform_fee)
        self.metrics = MetricsRecorder(scenario.run.warmup_s, cfg.min_active, cfg.max_active, pay, horizon_s)
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
        """Launch the job, run to the horizon and stop it there (or end at a StopAll); return the end time."""
        try:
            self._apply(0.0, self._step(JobLaunched(at=0.0)))
            self.env.run(until=self.horizon_s)
            self._apply(self.horizon_s, self._step(StopRequested(at=self.horizon_s)))
        except _Stopped:
            return float(self.env.now)
        return self.horizon_s

    # -- the policy -------------------------------------------------------------------------------------------
    def _step(self, event: JobLaunched | WorkerJoined | WorkerLeft | StopRequested) -> list[Action]:
        self.state, actions = self.policy.step(self.state, event)
        if self.timeline is not None and event.at < self.horizon_s:  # the stop's submissions end the run
            state, last = self.state, self.timeline[-1]
            if last[1] != len(state.waiting) or last[2] != len(state.active):
                self.timeline.append((event.at, len(state.waiting), len(state.active)))
        if type(event) is JobLaunched and self.log is not None:
            self.log.append((event.at, "", "launched", "", ""))
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
                self._stop_all(now)
            elif type(action) is ExpireRecruitment:
                self._withdraw(now)

    def _stop_all(self, now: float) -> None:
        """Every present worker who has not vanished submits now (and is paid); then the run ends."""
        if self.log is not None:
            self.log.append((now, "", "stop", "", ""))
        for wid, worker in list(self.workers.items()):
            if not worker.vanished:
                self._left(now, wid, "submitted", "stop")
        raise _Stopped

    # -- slots and arrivals -----------------------------------------------------------------------------------
    def _hire(self, now: float, count: int) -> None:
        self.metrics.hired(now, count)
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
        actions = self._step(WorkerJoined(wid, now))
        queue = self.state.queue_of(wid)
        if queue is not None:
            promoted = any(type(a) is Promote and a.worker_id == wid for a in actions)
            worker = Worker(wid, "waiting" if promoted else queue)
            self.workers[wid] = worker
            if worker.queue == "active":
                self._after(next(self.duration), self._on_active_done, wid)
            else:
                self._after(next(self.patience), self._on_patience_over, wid)
            self._after(self.limit_s, self._on_deadline, worker)
            queue = worker.queue
        self.metrics.joined(now, wid, queue or "")
        if self.log is not None:
            self.log.append((now, wid, "joined", queue or "", ""))
        self._apply(now, actions)

    def _rejected(self, now: float, wid: str, reason: str) -> None:
        self.metrics.rejected(now)
        if self.log is not None:
            self.log.append((now, wid, "rejected", "", reason))
        self._open(1)

    def _promoted(self, now: float, wid: str) -> None:
        worker = self.workers[wid]
        worker.queue = "active"
        self.metrics.promoted(now, wid)
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
            if not self.reopen_at_deadline:
                self._open(1)
            delay = next(self.detection)
            if delay > 0:
                self._after(delay, self._on_detected, wid)
                return
        self._left(float(self.env.now), wid, how)

    def _on_detected(self, ev: Event) -> None:
        self.events += 1
        if ev._value in self.workers:  # not timed out first
            self._left(float(self.env.now), ev._value, "abandoned")

    def _on_deadline(self, ev: Event) -> None:
        """The assignment's time limit: a worker still present is timed out; a vanished one's slot may re-open."""
        self.events += 1
        worker: Worker = ev._value
        if worker.gone:
            if worker.vanished and self.reopen_at_deadline:
                self._open(1)
            return
        # Timed out: the slot re-opens now, unless it already did when the ghost vanished (at_once).
        reopen = not worker.vanished or self.reopen_at_deadline
        self._left(float(self.env.now), worker.wid, "abandoned", "timeout", reopen)

    def _left(self, now: float, wid: str, how: DepartureKind, detail: str = "", reopen: bool = False) -> None:
        """The policy sees the departure; a returned slot re-opens (an abandoned one as the slot rules say)."""
        worker = self.workers.pop(wid)
        worker.gone = True
        actions = self._step(WorkerLeft(wid, now, how))
        self.metrics.left(now, wid, how)
        if how == "returned" or reopen:
            self._open(1)
        if self.log is not None:
            self.log.append((now, wid, how, worker.queue, detail))
        self._apply(now, actions)


def simulate_once(scenario: Scenario, rng: dict[str, np.random.Generator], horizon_s: float, *, event_log: bool = False,
                  timeline: bool = False) -> tuple[dict[str, float], list[Row] | None,
                                                   list[tuple[float, int, int]] | None, int]:
    """Run one replication from one Generator per quantity (`draws.streams`): (metrics, event log rows, timeline
    rows, events processed)."""
    sim = Simulation(scenario, rng, horizon_s, event_log, timeline)
    end = sim.run()
    return sim.metrics.finish(end), sim.log, sim.timeline, sim.events
