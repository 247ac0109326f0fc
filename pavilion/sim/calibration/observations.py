"""Event logs (DESIGN.md section 9) read, checked and turned into per-worker observations with censoring.

What each row tells, under the workload model of DESIGN.md section 3:
- a waiting worker's patience runs from `joined`; a promotion censors it (promotion cancels patience), and so do a
  timeout, the job's stop and the end of the log; a waiting departure observes it, and how they left;
- an active worker's duration runs from `promoted` (or from `joined` in 'active'); a timeout, the stop (every
  departure after the `stop` row is the stop's doing) and the end of the log censor it;
- an abandonment is logged when it is detected, so the worker vanished `abandon_detection_s` earlier (the base
  scenario's value; its mean when it is random). A ghost promoted before being detected had vanished while
  waiting: that is a waiting abandonment;
- slots: a `hire` opens `detail` slots (after the posting delay, fitted in arrivals.py); a return, a rejection
  and a timeout re-open the slot at once; an abandoned slot re-opens when the worker vanished (`at_once`) or when
  their assignment runs out (`at_deadline`: `assignment_duration_s` after joining); every `joined` takes one.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pavilion.errors import InputError

COLUMNS = ("time_s", "worker", "event", "queue", "detail")
EVENTS = ("launched", "hire", "joined", "rejected", "promoted", "ready", "submitted", "returned", "abandoned",
          "stop", "expire")
DEPARTURES = ("submitted", "returned", "abandoned")
QUEUES = ("waiting", "active", "")
TIMEOUT = "timeout"  # a departure's detail when the platform's time limit ended the assignment


@dataclass(frozen=True)
class SlotRules:
    """What the log cannot show and the base scenario says: detection delay and when abandoned slots re-open."""

    detection_s: float = 0.0
    assignment_duration_s: float = math.inf
    abandoned_slot_reopens: str = "at_once"


@dataclass
class Durations:
    """Right-censored durations in seconds: `observed[i]` False means the clock was stopped before the event."""

    times: list[float] = field(default_factory=list)
    observed: list[bool] = field(default_factory=list)

    def add(self, time_s: float, observed: bool) -> None:
        if time_s > 0 or observed:  # a clock stopped at zero says nothing
            self.times.append(max(time_s, 0.0))
            self.observed.append(observed)

    def extend(self, other: Durations) -> None:
        self.times += other.times
        self.observed += other.observed

    @property
    def events(self) -> int:
        return sum(self.observed)


@dataclass
class JobSlots:
    """One job's slot traffic: hires (time, count), re-openings, takes (joins), and when recruiting ended."""

    hires: list[tuple[float, int]] = field(default_factory=list)
    reopens: list[float] = field(default_factory=list)
    takes: list[float] = field(default_factory=list)
    end_s: float = 0.0


@dataclass
class Observations:
    """Everything the fits need from one or more event logs."""

    sources: list[str] = field(default_factory=list)
    rows: int = 0
    patience: Durations = field(default_factory=Durations)
    active: Durations = field(default_factory=Durations)
    waiting_exits: Counter[str] = field(default_factory=Counter)
    active_exits: Counter[str] = field(default_factory=Counter)
    jobs: list[JobSlots] = field(default_factory=list)
    timeouts: int = 0
    stopped: int = 0  # departures caused by the stop (censored)
    present_at_end: int = 0

    def merge(self, other: Observations) -> None:
        self.sources += other.sources
        self.rows += other.rows
        self.patience.extend(other.patience)
        self.active.extend(other.active)
        self.waiting_exits.update(other.waiting_exits)
        self.active_exits.update(other.active_exits)
        self.jobs += other.jobs
        self.timeouts += other.timeouts
        self.stopped += other.stopped
        self.present_at_end += other.present_at_end


@dataclass
class _Stint:
    joined_at: float
    queue: str
    promoted_at: float = math.nan
    left_row: int = 0


class _Reader:
    """Walks one log's rows in order, checking each, and collects the observations."""

    def __init__(self, name: str, rules: SlotRules) -> None:
        self.name = name
        self.rules = rules
        self.obs = Observations(sources=[name])
        self.slots = JobSlots()
        self.stints: dict[str, _Stint] = {}
        self.last_time = -math.inf
        self.launched = False
        self.stop_at = math.nan
        self.recruiting_until = math.inf
        self.joined_rows: dict[str, int] = {}

    def fail(self, row: int, problem: str) -> InputError:
        return InputError(f"{self.name}: row {row}: {problem}")

    def row(self, number: int, cells: dict[str, str]) -> None:
        time_s = self._time(number, cells["time_s"])
        worker, event, queue, detail = (cells[k].strip() for k in COLUMNS[1:])
        if event not in EVENTS:
            raise self.fail(number, f"unknown event {event!r} (expected one of {', '.join(EVENTS)})")
        if queue not in QUEUES:
            raise self.fail(number, f"unknown queue {queue!r} (expected waiting, active or empty)")
        if not self.launched and event != "launched":
            raise self.fail(number, f"{event} before the job was launched (the first row must be 'launched')")
        self.obs.rows += 1
        if event in ("launched", "hire", "stop", "expire"):
            self._job_row(number, time_s, event, detail)
        elif not worker:
            raise self.fail(number, f"{event} without a worker id")
        elif event == "joined":
            self._joined(number, time_s, worker, queue)
        else:
            stint = self.stints.get(worker)
            if stint is None:
                raise self.fail(number, f"worker {worker!r} is {event} without having joined")
            if stint.left_row:
                problem = "leaves twice" if event in DEPARTURES else f"is {event} after leaving"
                raise self.fail(number, f"worker {worker!r} {problem} (first left at row {stint.left_row})")
            if event == "rejected":
                stint.left_row = number
                self._reopen(time_s)
            elif event == "promoted":
                self._promoted(number, time_s, worker, stint)
            elif event in DEPARTURES:
                stint.left_row = number
                self._left(time_s, event, detail, stint)

    def _time(self, number: int, text: str) -> float:
        try:
            time_s = float(text)
        except ValueError:
            raise self.fail(number, f"time_s {text!r} is not a number") from None
        if not math.isfinite(time_s) or time_s < 0:
            raise self.fail(number, f"time_s must be finite and >= 0, got {text!r}")
        if time_s < self.last_time:
            raise self.fail(number, f"time goes backwards ({text} s after {self.last_time:g} s)")
        self.last_time = time_s
        return time_s

    def _job_row(self, number: int, time_s: float, event: str, detail: str) -> None:
        if event == "launched":
            if self.launched:
                raise self.fail(number, "launched twice")
            self.launched = True
        elif event == "hire":
            if not detail.isdigit() or int(detail) < 1:
                raise self.fail(number, f"hire detail must be the number of slots, got {detail!r}")
            if time_s < self.recruiting_until:
                self.slots.hires.append((time_s, int(detail)))
        else:
            self.recruiting_until = min(self.recruiting_until, time_s)
            if event == "stop" and math.isnan(self.stop_at):
                self.stop_at = time_s

    def _joined(self, number: int, time_s: float, worker: str, queue: str) -> None:
        if worker in self.stints:
            raise self.fail(number, f"worker {worker!r} joins twice (first at row {self.joined_rows[worker]})")
        stint = _Stint(time_s, queue)
        if queue == "active":
            stint.promoted_at = time_s
        self.stints[worker] = stint
        self.joined_rows[worker] = number
        if time_s < self.recruiting_until:
            self.slots.takes.append(time_s)

    def _promoted(self, number: int, time_s: float, worker: str, stint: _Stint) -> None:
        if stint.queue != "waiting":
            where = "already active" if stint.queue == "active" else "rejected on joining"
            raise self.fail(number, f"worker {worker!r} is promoted but was {where}")
        stint.queue = "active"
        stint.promoted_at = time_s

    def _reopen(self, time_s: float) -> None:
        if time_s < self.recruiting_until:
            self.slots.reopens.append(time_s)

    def _left(self, time_s: float, how: str, detail: str, stint: _Stint) -> None:
        queue = stint.queue
        if queue not in ("waiting", "active"):
            return
        if not math.isnan(self.stop_at):
            self.obs.stopped += 1
            self._censor(self.stop_at, stint)
            return
        if detail == TIMEOUT:
            self.obs.timeouts += 1
            self._censor(time_s, stint)
            self._reopen(time_s)
            return
        at = time_s
        if how == "abandoned":
            at = max(time_s - self.rules.detection_s, stint.joined_at)
            if queue == "active" and at < stint.promoted_at:
                queue = "waiting"  # a ghost promoted before anyone noticed it had gone
            deadline = stint.joined_at + self.rules.assignment_duration_s
            self._reopen(deadline if self.rules.abandoned_slot_reopens == "at_deadline" else at)
        elif how == "returned":
            self._reopen(time_s)
        if queue == "waiting":
            self.obs.patience.add(at - stint.joined_at, observed=True)
            self.obs.waiting_exits[how] += 1
        else:
            self._promotion_censored_patience(stint)
            self.obs.active.add(at - stint.promoted_at, observed=True)
            self.obs.active_exits[how] += 1

    def _promotion_censored_patience(self, stint: _Stint) -> None:
        # Added when the stint ends, not at the promotion: a ghost promoted after vanishing was no censoring.
        self.obs.patience.add(stint.promoted_at - stint.joined_at, observed=False)

    def _censor(self, at: float, stint: _Stint) -> None:
        if stint.queue == "waiting":
            self.obs.patience.add(at - stint.joined_at, observed=False)
        else:
            self._promotion_censored_patience(stint)
            self.obs.active.add(at - stint.promoted_at, observed=False)

    def finish(self) -> Observations:
        if not self.launched:
            raise InputError(f"{self.name}: no rows (an event log has a 'launched' row and the job's events)")
        end = self.last_time if math.isnan(self.stop_at) else self.stop_at
        for stint in self.stints.values():
            if not stint.left_row and stint.queue in ("waiting", "active"):
                self.obs.present_at_end += 1
                self._censor(end, stint)
        self.slots.end_s = min(self.recruiting_until, self.last_time)
        self.obs.jobs.append(self.slots)
        return self.obs


def observe_rows(rows: Iterable[Sequence[object]], name: str, rules: SlotRules) -> Observations:
    """Observations from one log's rows (time_s, worker, event, queue, detail), numbered from 2 (after a header)."""
    return _observe(enumerate(rows, start=2), name, rules)


def observe_frame(frame: pd.DataFrame, name: str, rules: SlotRules) -> Observations:
    """Observations from an event log DataFrame (`simulate(..., event_log=True).event_log`)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    columns = [frame[c].tolist() for c in COLUMNS[:1]] + [[_text(v) for v in frame[c].tolist()] for c in COLUMNS[1:]]
    return observe_rows(zip(*columns, strict=True), name, rules)


def _text(value: object) -> str:
    """A text cell as written, also from a frame read without keep_default_na=False (NaN, 6.0 for '6')."""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return "" if value is None else str(value)


def _observe(numbered: Iterable[tuple[int, Sequence[object]]], name: str, rules: SlotRules) -> Observations:
    reader = _Reader(name, rules)
    for number, row in numbered:
        cells = {key: "" if value is None else str(value) for key, value in zip(COLUMNS, row, strict=True)}
        reader.row(number, cells)
    return reader.finish()


def read_event_log(path: str | Path, rules: SlotRules) -> Observations:
    """Observations from one events.csv (a header line naming at least COLUMNS); bad input is an InputError."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f))
    except FileNotFoundError:
        raise InputError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a CSV file ({exc})") from None
    if not lines:
        raise InputError(f"{path}: empty (an event log starts with the header {','.join(COLUMNS)})")
    header = [cell.strip() for cell in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: row 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                         f"(an event log has {','.join(COLUMNS)})")
    index = [header.index(c) for c in COLUMNS]
    picked: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue  # a blank line
        if len(line) != len(header):
            raise InputError(f"{path}: row {number}: {len(line)} cells, the header has {len(header)}")
        picked.append((number, [line[i] for i in index]))
    return _observe(picked, str(path), rules)


def read_event_logs(paths: Sequence[str | Path], rules: SlotRules) -> Observations:
    """Observations pooled over several logs (each one job)."""
    if not paths:
        raise InputError("no event log given")
    pooled = Observations()
    for path in paths:
        pooled.merge(read_event_log(path, rules))
    return pooled
