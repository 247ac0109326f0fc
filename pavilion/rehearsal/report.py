"""What a rehearsal writes: rehearsal.csv, report.md, events-*.csv (written as they come), plots/."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pavilion.rehearsal.livelog import departures, read, ready_latencies
from pavilion.rehearsal.plots import queues_live_vs_sim
from pavilion.rehearsal.scaling import UNMODELLED
from pavilion.sim import Scenario

if TYPE_CHECKING:
    from pavilion.rehearsal.run import RehearsalOutcome, RehearsalRequest

CSV_COLUMNS = ("metric", "live_mean", "sim_mean", "interval_low", "interval_high", "agree")


def _num(value: float) -> str:
    if math.isnan(value):
        return ""
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def write_csv(path: Path, outcome: RehearsalOutcome) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for v in outcome.verdicts:
            writer.writerow((v.metric, _num(v.live_mean), _num(v.sim_mean), _num(v.low), _num(v.high), v.agree))


def ledger_check(outcome: RehearsalOutcome) -> list[dict[str, Any]]:
    """Per replication: the driver's record against the server's log and counts (nothing lost, nobody paid twice)."""
    rows = []
    for rep in outcome.replications:
        mine, logged, counts = rep.record.tally(), departures(read(rep.events_csv)), rep.counts
        rows.append({
            "replication": rep.index + 1, "kills": rep.kills, "planned": rep.planned,
            "joined (driver / server)": f"{mine['joined'] + mine['rejected']} / {counts.get('joined', '?')}",
            "pages unanswered": mine["unanswered"],
            "submitted": f"{mine['submitted']} / {logged['submitted']}",
            "returned": f"{mine['returned']} / {logged['returned']}",
            "abandoned": f"{mine['abandoned']} / {logged['abandoned']}",
            "paid (driver submitted / server paid)": f"{mine['submitted']} / {counts.get('paid', '?')}",
            "left twice": logged["left_twice"], "reconnects": mine["reconnects"], "worker errors": mine["errors"],
        })
    return rows


def _latency_lines(outcome: RehearsalOutcome) -> list[str]:
    k = outcome.scaled.factor
    ready = np.concatenate([ready_latencies(read(r.events_csv)) for r in outcome.replications])
    reconnects = sum(r.record.tally()["reconnects"] for r in outcome.replications)
    lines = ["## The live server's own latencies", ""]
    if ready.size:
        p50, p95 = np.percentile(ready, [50, 95])
        lines.append(f"- promotion to `ready` (server clock, {ready.size} promotions): p50 {p50 * 1000:.1f} ms, "
                     f"p95 {p95 * 1000:.1f} ms; unscaled {p50 * k:.2f} s and {p95 * k:.2f} s")
    else:
        lines.append("- promotion to `ready`: no promotion acknowledged")
    lines.append(f"- socket reconnects: {reconnects}")
    late = np.concatenate([np.array(r.record.timings()[0]) for r in outcome.replications])
    trips = np.concatenate([np.array(r.record.timings()[1]) for r in outcome.replications])
    if trips.size:
        lines.append(f"- heartbeat round trip ({trips.size}): p50 {np.percentile(trips, 50) * 1000:.1f} ms, "
                     f"p99 {np.percentile(trips, 99) * 1000:.1f} ms; the driver's timers late p99 "
                     f"{np.percentile(late, 99) * 1000:.1f} ms")
    return lines


def _error_lines(outcome: RehearsalOutcome) -> list[str]:
    lost = [f"- replication {r.index + 1}: " + ", ".join(f"{n} x {why}" for why, n in r.record.lost_reasons().items())
            for r in outcome.replications if r.record.lost_reasons()]
    errors = [f"- replication {r.index + 1}: {e}" for r in outcome.replications for e in r.record.errors()]
    lines = ["Arrivals that found no open slot (lost, as in the model):", "", *lost, ""] if lost else []
    return lines + (["What went wrong for simulated workers (first few):", "", *errors, ""] if errors else [])


def _table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    head = list(rows[0])
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]]


def write_report(path: Path, request: RehearsalRequest, outcome: RehearsalOutcome, scenario: Scenario) -> None:
    scaled = outcome.scaled
    bad = outcome.disagreeing
    compared = sum(1 for v in outcome.verdicts if v.agree != "not modelled")
    verdict = "every compared metric agrees" if not bad else f"disagree: {', '.join(bad)}"
    lines = [
        f"# Rehearsal of `{scenario.name}` on the {request.platform} platform", "",
        f"- time scale x{scaled.factor:g}: {scenario.run.horizon_s:g} s of the scenario in "
        f"{scaled.scenario.run.horizon_s:g} s, {len(outcome.replications)} live replication(s), "
        f"{request.sim_replications} simulated",
        f"- intervals: {outcome.per_metric_level:.2%} per metric (Bonferroni over {compared} metrics, "
        f"{request.level:.0%} family-wise) for the mean of the live replications",
        *[f"- not modelled: {v.metric}: {UNMODELLED[request.platform][v.metric]}" for v in outcome.verdicts
          if v.agree == "not modelled"],
        *[f"- {note}" for note in scaled.notes],
        "- server settings: " + " ".join(f"`{k}={v}`" for k, v in scaled.server_env().items()),
        "- times are unscaled (the scenario's seconds); abandonments seen after the stop are left out, as the "
        "simulator leaves its unseen ghosts", "",
        f"**Verdict: {verdict}.**", "",
        "| metric | live | simulated mean | interval | agree |", "|---|---|---|---|---|",
    ]
    for v in outcome.verdicts:
        lines.append(f"| {v.metric} | {_num(v.live_mean)} | {_num(v.sim_mean)} | "
                     f"[{_num(v.low)}, {_num(v.high)}] | {v.agree} |")
    lines += ["", *_latency_lines(outcome), "", "## The driver's record against the server's", "",
              *_table(ledger_check(outcome)), "", *_error_lines(outcome), "![queues](plots/queues_live_vs_sim.png)", ""]
    path.write_text("\n".join(lines))


def write_outputs(out: Path, request: RehearsalRequest, outcome: RehearsalOutcome, scenario: Scenario) -> None:
    write_csv(out / "rehearsal.csv", outcome)
    queues_live_vs_sim(out / "plots" / "queues_live_vs_sim.png", outcome)
    write_report(out / "report.md", request, outcome, scenario)
