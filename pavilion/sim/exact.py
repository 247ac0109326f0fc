"""Exact answers for Markovian scenarios: the continuous-time Markov chain of the policy, solved for steady state.

The chain's states are what the simulator tracks when every duration is exponential: the policy's `JobState`
(workers renamed by queue position), which of them are ghosts (vanished, abandonment not yet seen), the open slots
and the hire batches still waiting out their posting delay. Its transitions are found by stepping the policy of
`pavilion.core` from each state, as the simulator does (DESIGN.md section 3); nothing here restates a rule.

```python
from pavilion.sim import exact, load_scenario
exact(load_scenario("markovian.toml")).metrics["availability"]
```
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse
import scipy.sparse.linalg as sparse_linalg

from pavilion.core import ExpireRecruitment, Hire, JobLaunched, JobState, Promote, Reject, StopAll, get_policy
from pavilion.core.events import DepartureKind, Event, WorkerJoined, WorkerLeft
from pavilion.errors import InputError
from pavilion.sim.distributions import Distribution
from pavilion.sim.metrics import METRICS
from pavilion.sim.scenario import ExitMix, Scenario

FloatArray = npt.NDArray[np.float64]
MAX_STATES = 200_000
RATES = ("arrivals", "rejected", "hires", "submitted", "returned", "abandoned", "accepted")
COUNTED = ("arrivals", "rejected", "hires", "submitted", "returned", "abandoned")
NOTES = {
    "time_to_start_s": "mean first-passage time from the launch (independent of the horizon)",
    "mean_wait_s": "Little's law: mean_waiting / rate of joins into the waiting queue",
    "counts": "steady-state rate x the measured window (run.horizon_s - run.warmup_s); submitted adds the workers "
              "present at the horizon (stop and pay); the simulation also counts the start-up transient",
    "replacement_latency_mean_s": "not a state function of this chain (needs each departure's history): NaN",
    "replacement_latency_p95_s": "not a state function of this chain: NaN",
    "cost_usd": "wages depend on whether each worker eventually submits, not a state function: NaN",
    "cost_per_available_hour": "needs cost_usd: NaN",
}


@dataclass(frozen=True)
class ChainState:
    """One state: the policy's state (ids w0.., a0.. by position), the ghosts among them, open slots, pending hires."""

    job: JobState
    ghosts: frozenset[str]
    open_slots: int
    pending: tuple[int, ...]  # sizes of hire batches still in their posting delay, sorted


@dataclass(frozen=True)
class Chain:
    """The states, the generator matrix `q` (CSR), per-state event rates (RATES, per second) and the launch state."""

    states: list[ChainState]
    q: sparse.csr_matrix
    rates: dict[str, FloatArray]
    initial: int


@dataclass(frozen=True)
class ExactResult:
    """Every metric of METRICS (NaN where steady state does not define it), what each means here, the chain size."""

    metrics: dict[str, float]
    notes: dict[str, str]
    states: int


def _rate(dist: Distribution, key: str) -> float:
    """The event rate of an exponential duration (0 for a constant inf: never); anything else is an InputError."""
    if dist.kind == "exponential":
        return 1.0 / float(dist.params["mean"])
    if dist.kind == "constant" and dist.params["value"] == math.inf:
        return 0.0
    raise InputError(f"--exact: {key} is {dist.kind}, not exponential: the scenario is not a Markov chain")


def _instant_or_rate(dist: Distribution, key: str) -> float | None:
    """None for a constant 0 (at once), else the exponential's rate."""
    if dist.kind == "constant" and dist.params["value"] == 0:
        return None
    return _rate(dist, key)


@dataclass(frozen=True)
class _Model:
    """The workload's rates, checked Markovian."""

    pooled_rate: float  # per second; 0 for per-slot arrivals
    fill_rate: float  # per open slot per second; 0 for pooled arrivals
    patience: float
    duration: float
    detection: float | None  # None: an abandonment is seen at once
    hire_delay: float | None  # None: hired slots open at once
    waiting_exit: ExitMix
    active_exit: ExitMix


def check_markovian(scenario: Scenario) -> None:
    """Raise one InputError naming every key that makes `scenario` non-Markovian (nothing when it is one)."""
    _model(scenario)


def _model(scenario: Scenario) -> _Model:
    w = scenario.workload
    bad: list[str] = []

    def rate(fn: object, dist: Distribution, key: str) -> float | None:
        try:
            return fn(dist, key)  # type: ignore[operator,no-any-return]
        except InputError:
            bad.append(f"{key} ({dist.kind})")
            return 0.0

    pooled = w.arrivals.mode == "pooled"
    fill = 0.0
    if not pooled:
        assert w.arrivals.time_to_fill_s is not None
        fill = rate(_rate, w.arrivals.time_to_fill_s, "workload.arrivals.time_to_fill_s") or 0.0
    patience = rate(_rate, w.waiting_patience_s, "workload.waiting_patience_s") or 0.0
    duration = rate(_rate, w.active_duration_s, "workload.active_duration_s") or 0.0
    abandons = w.waiting_exit.abandoned > 0 or w.active_exit.abandoned > 0
    # with nobody abandoning, the detection delay never applies, whatever its distribution
    detection = rate(_instant_or_rate, w.abandon_detection_s, "workload.abandon_detection_s") if abandons else None
    delay = rate(_instant_or_rate, w.hire_delay_s, "workload.hire_delay_s")
    if w.assignment_duration_s != math.inf:
        bad.append(f"workload.assignment_duration_s ({w.assignment_duration_s:g} s: a deterministic time limit; "
                   "exact mode needs inf)")
    if bad:
        raise InputError(f"--exact: not a Markov chain because of {'; '.join(bad)}")
    rate_s = float(w.arrivals.rate_per_hour or 0.0) / 3600.0 if pooled else 0.0
    return _Model(rate_s, fill, patience, duration, detection, delay, w.waiting_exit, w.active_exit)


class _Builder:
    """Explores the states reachable from the launch by stepping the policy, and collects the transitions."""

    def __init__(self, scenario: Scenario, model: _Model) -> None:
        self.policy = get_policy(scenario.policy.name)
        self.model = model
        self.index: dict[ChainState, int] = {}
        self.states: list[ChainState] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[float] = []
        self.rates: dict[str, list[float]] = {name: [] for name in RATES}
        # many chain states share a policy state (they differ in open slots or pending hires): step each once
        self.steps: dict[tuple[JobState, Event], tuple[JobState, list[object]]] = {}
        self.names: dict[tuple[JobState, frozenset[str]], tuple[JobState, frozenset[str]]] = {}
        self.start = self._launch(self.policy.initial_state(scenario.policy.config))

    def _launch(self, job: JobState) -> ChainState:
        job, actions = self.policy.step(job, JobLaunched(at=0.0))
        return self._settle(job, frozenset(), 0, (), list(actions))

    def _step(self, job: JobState, event: Event) -> tuple[JobState, list[object]]:
        key = (job, event)
        found = self.steps.get(key)
        if found is None:
            new, actions = self.policy.step(job, event)
            found = self.steps[key] = (new, list(actions))
        return found

    def _rename(self, job: JobState, ghosts: frozenset[str]) -> tuple[JobState, frozenset[str]]:
        key = (job, ghosts)
        found = self.names.get(key)
        if found is None:
            names = {wid: f"w{i}" for i, wid in enumerate(job.waiting)}
            names.update({wid: f"a{i}" for i, wid in enumerate(job.active)})
            renamed = dataclasses.replace(job, waiting=tuple(names[w] for w in job.waiting),
                                          active=tuple(names[w] for w in job.active))
            found = self.names[key] = (renamed, frozenset(names[g] for g in ghosts if g in names))
        return found

    def _settle(self, job: JobState, ghosts: frozenset[str], open_slots: int, pending: tuple[int, ...],
                actions: list[object]) -> ChainState:
        """Carry out the actions as the simulator does (DESIGN.md section 3) and rename workers by position."""
        batches = list(pending)
        for action in actions:
            if isinstance(action, Hire):
                if self.model.hire_delay is None:
                    open_slots += action.count
                else:
                    batches.append(action.count)
            elif isinstance(action, Reject):
                open_slots += 1  # the rejected worker's slot re-opens
            elif isinstance(action, StopAll | ExpireRecruitment):
                raise InputError(f"--exact: the policy {self.policy.name!r} stops or withdraws recruitment in steady "
                                 "state; no stationary chain")
            elif not isinstance(action, Promote):
                raise InputError(f"--exact: the policy returned {type(action).__name__}, which the chain does not "
                                 "model")
        renamed, ghosts = self._rename(job, ghosts)
        return ChainState(renamed, ghosts, open_slots, tuple(sorted(batches)) if batches else ())

    def _id(self, state: ChainState) -> int:
        i = self.index.get(state)
        if i is None:
            if len(self.states) >= MAX_STATES:
                raise InputError(f"--exact: more than {MAX_STATES} states; use smaller queues or simulate")
            i = self.index[state] = len(self.states)
            self.states.append(state)
            for name in RATES:
                self.rates[name].append(0.0)
        return i

    def build(self) -> Chain:
        self._id(self.start)
        done = 0
        while done < len(self.states):
            state = self.states[done]
            for rate, target, counts in self._moves(state):
                if rate <= 0:
                    continue
                j = self._id(target)
                self.rows.append(done)
                self.cols.append(j)
                self.values.append(rate)
                for name, n in counts.items():
                    self.rates[name][done] += rate * n
            done += 1
        n = len(self.states)
        q = sparse.coo_matrix((self.values, (self.rows, self.cols)), shape=(n, n)).tocsr()
        q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
        return Chain(self.states, q.tocsr(), {k: np.asarray(v) for k, v in self.rates.items()}, 0)

    def _moves(self, s: ChainState) -> Iterator[tuple[float, ChainState, dict[str, int]]]:
        m = self.model
        if s.open_slots > 0:
            yield (m.pooled_rate or m.fill_rate * s.open_slots), *self._join(s)
        for i, size in enumerate(s.pending):
            if m.hire_delay:
                rest = s.pending[:i] + s.pending[i + 1:]
                yield m.hire_delay, ChainState(s.job, s.ghosts, s.open_slots + size, rest), {}
        for ids, mix, rate in ((s.job.waiting, m.waiting_exit, m.patience),
                               (s.job.active, m.active_exit, m.duration)):
            for wid in ids:
                if wid in s.ghosts:
                    if m.detection:
                        yield m.detection, *self._left(s, wid, "abandoned", reopen=False)
                    continue
                for how, share in (("submitted", mix.submitted), ("returned", mix.returned),
                                   ("abandoned", mix.abandoned)):
                    if share > 0 and rate > 0:
                        yield rate * share, *self._depart(s, wid, how)  # type: ignore[arg-type]

    def _join(self, s: ChainState) -> tuple[ChainState, dict[str, int]]:
        job, actions = self._step(s.job, WorkerJoined("new", 0.0))
        queue = job.queue_of("new")
        # a wait is recorded for joiners into the waiting queue, promoted at once or not (as the simulator does)
        waits = queue == "waiting" or any(isinstance(a, Promote) and a.worker_id == "new" for a in actions)
        counts = {"arrivals": 1, "rejected": int(queue is None), "accepted": int(waits), "hires": _hired(actions)}
        return self._settle(job, s.ghosts, s.open_slots - 1, s.pending, actions), counts

    def _depart(self, s: ChainState, wid: str, how: DepartureKind) -> tuple[ChainState, dict[str, int]]:
        if how != "abandoned":
            return self._left(s, wid, how, reopen=how == "returned")
        # the worker vanishes: with no time limit the slot re-opens at once (at_once; at_deadline is refused)
        vanished = ChainState(s.job, s.ghosts, s.open_slots + 1, s.pending)
        if self.model.detection is None:
            return self._left(vanished, wid, "abandoned", reopen=False)
        return ChainState(s.job, s.ghosts | {wid}, vanished.open_slots, s.pending), {}

    def _left(self, s: ChainState, wid: str, how: DepartureKind, reopen: bool) -> tuple[ChainState, dict[str, int]]:
        event: Event = WorkerLeft(wid, 0.0, how)
        job, actions = self._step(s.job, event)
        counts = {how: 1, "hires": _hired(actions)}
        return self._settle(job, s.ghosts - {wid}, s.open_slots + int(reopen), s.pending, actions), counts


def _hired(actions: list[object]) -> int:
    return sum(a.count for a in actions if isinstance(a, Hire))


def build_chain(scenario: Scenario) -> Chain:
    """The chain of a Markovian scenario (InputError naming the first keys that are not), state 0 the launch."""
    return _Builder(scenario, _model(scenario)).build()


def stationary(q: sparse.csr_matrix) -> FloatArray:
    """pi with pi Q = 0 and sum(pi) = 1: Q^T with one balance equation replaced by the normalisation."""
    n = q.shape[0]
    a = q.T.tolil()
    a[n - 1, :] = np.ones(n)
    b = np.zeros(n)
    b[-1] = 1.0
    pi = np.asarray(sparse_linalg.spsolve(a.tocsc(), b), dtype=np.float64)
    kept: FloatArray = np.clip(pi, 0.0, None)  # round-off can leave -1e-17 on a transient state
    out: FloatArray = kept / kept.sum()
    return out


def first_passage(chain: Chain, target: npt.NDArray[np.bool_]) -> float:
    """Mean time from the launch state until the chain first enters a target state."""
    if target[chain.initial]:
        return 0.0
    rest = np.flatnonzero(~target)
    sub = chain.q[rest][:, rest].tocsc()
    times = sparse_linalg.spsolve(sub, -np.ones(len(rest)))
    return float(np.atleast_1d(times)[int(np.searchsorted(rest, chain.initial))])


def exact(scenario: Scenario) -> ExactResult:
    """The stationary metrics of `scenario`'s chain (see NOTES for how each is defined here)."""
    chain = build_chain(scenario)
    pi = stationary(chain.q)
    cfg = scenario.policy
    active = np.array([len(s.job.active) for s in chain.states], dtype=float)
    waiting = np.array([len(s.job.waiting) for s in chain.states], dtype=float)
    live = np.array([s.job.size - len(s.ghosts) for s in chain.states], dtype=float)
    started = np.array([s.job.started for s in chain.states], dtype=bool)
    rate = {name: float(pi @ r) for name, r in chain.rates.items()}
    span = scenario.run.horizon_s - scenario.run.warmup_s
    out = dict.fromkeys(METRICS, math.nan)
    out.update({
        "availability": float(pi @ (active >= cfg.min_active)),
        "full_ratio": float(pi @ (active >= cfg.max_active)),
        "mean_active": float(pi @ active),
        "mean_waiting": float(pi @ waiting),
        "time_to_start_s": first_passage(chain, started) if started.any() else math.inf,
        "mean_wait_s": float(pi @ waiting) / rate["accepted"] if rate["accepted"] > 0 else math.nan,
        "hire_rate_per_hour": rate["hires"] * 3600.0,
        **{name: rate[name] * span for name in ("arrivals", "rejected", "hires", "returned", "abandoned")},
        "submitted": rate["submitted"] * span + float(pi @ live),
    })
    notes = {m: NOTES.get(m, NOTES["counts"] if m in COUNTED else "stationary expectation") for m in METRICS}
    return ExactResult(out, notes, len(chain.states))
