"""`metrics_from_events`: the metrics of DESIGN.md section 5 from an event log, simulated or live (section 9)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from pavilion.errors import InputError
from pavilion.sim.eventlog import EVENT_KINDS, EVENT_LOG_COLUMNS
from pavilion.sim.metrics import MetricsRecorder, PayRates
from pavilion.sim.scenario import Scenario

DEPARTURES = ("submitted", "returned", "abandoned")
Events = pd.DataFrame | str | Path | Iterable[Sequence[object]]


def _text(value: object) -> str:
    """A cell as text: '' for an empty cell (None, or NaN as pandas reads an empty CSV cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _frame(events: Events) -> pd.DataFrame:
    if isinstance(events, str | Path):
        try:
            return pd.read_csv(events, dtype={"worker": str, "queue": str, "detail": str}, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"event log {events}: cannot read ({exc})") from None
    if isinstance(events, pd.DataFrame):
        return events
    return pd.DataFrame(list(events), columns=list(EVENT_LOG_COLUMNS))


def event_rows(events: Events) -> list[tuple[float, str, str, str, str]]:
    """The log's rows, checked: (time_s, worker, event, queue, detail), in the log's own order."""
    frame = _frame(events)
    missing = [c for c in EVENT_LOG_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"event log: missing column(s) {', '.join(missing)} (expected {', '.join(EVENT_LOG_COLUMNS)})")
    rows: list[tuple[float, str, str, str, str]] = []
    columns = [frame[c].tolist() for c in EVENT_LOG_COLUMNS]
    for number, (t, worker, event, queue, detail) in enumerate(zip(*columns, strict=True), start=1):
        try:
            time_s = float(t)
        except (TypeError, ValueError):
            raise InputError(f"event log row {number}: time_s {t!r} is not a number") from None
        if not math.isfinite(time_s):
            raise InputError(f"event log row {number}: time_s must be finite, got {t!r}")
        kind = _text(event)
        if kind not in EVENT_KINDS:
            raise InputError(f"event log row {number}: unknown event {kind!r} (known: {', '.join(EVENT_KINDS)})")
        rows.append((time_s, _text(worker), kind, _text(queue), _text(detail)))
    return rows


def _slots(detail: str, number: int) -> int:
    try:
        count = float(detail)
    except ValueError:
        raise InputError(f"event log row {number}: a hire's detail must be its slot count, got {detail!r}") from None
    if not count.is_integer() or count < 0:
        raise InputError(f"event log row {number}: a hire's detail must be a whole slot count, got {detail!r}")
    return int(count)


def metrics_from_events(events: Events, scenario: Scenario) -> dict[str, float]:
    """Every metric of METRICS from an event log, with the scenario's queue bounds, pay and warmup.

    `events`: a DataFrame with EVENT_LOG_COLUMNS (as `simulate(..., event_log=True)` returns it or as
    `pd.read_csv` reads an `events.csv`), the path of such a CSV, or an iterable of 5-tuples. Rows are taken in
    the log's order (the order things happened; ties keep it). The measured window ends at the first `stop` row
    (later rows, such as live submissions after the stop, still count and are paid, but add no time), or at the
    scenario's `run.horizon_s` in a log with no stop. `ready` and `launched` rows, `expire` and the detail of
    departures carry nothing the metrics need. The simulator records its online metrics with the same recorder,
    so the two agree exactly on the same run.
    """
    rows = event_rows(events)
    stops = [t for t, _, kind, _, _ in rows if kind == "stop"]
    end = stops[0] if stops else scenario.run.horizon_s
    warmup = scenario.run.warmup_s
    if not end > warmup:
        raise InputError(f"event log: the job ends at {end:g} s, not after run.warmup_s ({warmup:g} s)")
    p, cfg = scenario.payment, scenario.policy
    pay = PayRates(p.reward, p.waiting_wage_per_hour, p.active_wage_per_hour, p.platform_fee)
    recorder = MetricsRecorder(warmup, cfg.min_active, cfg.max_active, pay, end)
    for number, (t, worker, kind, queue, detail) in enumerate(rows, start=1):
        if kind == "joined":
            recorder.joined(t, worker, queue)
        elif kind == "promoted":
            recorder.promoted(t, worker)
        elif kind in DEPARTURES:
            recorder.left(t, worker, kind)
        elif kind == "hire":
            recorder.hired(t, _slots(detail, number))
        elif kind == "rejected":
            recorder.rejected(t)
    return recorder.finish(end)
