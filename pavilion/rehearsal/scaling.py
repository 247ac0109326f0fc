"""Time scaling: the scenario both sides run (durations / K, rates and wages x K, the platform's slot rules) and
metrics reported back in unscaled seconds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pavilion.errors import InputError
from pavilion.sim import Scenario, load_scenario
from pavilion.sim.scenario import DISTRIBUTION_KEYS

DEFAULT_TIME_SCALE = 60.0  # the default scenario's 8 hours in 8 minutes; a promotion (~10 ms) is 0.6 scaled s
PRESENCE_SWEEP_S = 1.0  # the server looks for stale stints this often (pavilion.runtime.worker, not configurable)
MTURK_MAX_S = 31_536_000  # AssignmentDurationInSeconds: 30 s to a year
PROLIFIC_LEAST_MINUTES = 5  # the least maximum allowed time for an estimate of 1 minute
# A page must have its socket open within the grace of being served. A driver and a server on a loaded 2-core
# machine took over 2 s between the two, so the grace is never scaled below this (the simulation models it).
GRACE_FLOOR_S = 4.0
# A restart takes real seconds that no time scale shortens, and every page must reconnect within the fresh grace
# the restarted server gives it: with --kill-server-every the grace is at least this.
CHAOS_GRACE_FLOOR_S = 6.0
QUEUE_REFRESH_FLOOR_S = 0.05  # coalescing faster than this only adds load; positions never drive the workers
TIME_METRICS = ("time_to_start_s", "replacement_latency_mean_s", "replacement_latency_p95_s", "mean_wait_s")
PER_HOUR_METRICS = ("hire_rate_per_hour", "cost_per_available_hour")
# The slot rules each platform really has, as the simulator's keys (None: the scenario's own values stand).
# Local: no time limit, and returned or abandoned places re-open once the server sees the departure.
PLATFORM_SLOT_RULES: dict[str, dict[str, Any] | None] = {
    "local": {"workload.assignment_duration_s": math.inf, "workload.abandoned_slot_reopens": "at_once"},
    "mturk": None,
    "prolific": None,
}
# What the simulator cannot describe on a platform, with the reason (reported, not voted on, unless asked for).
# Local: an abandoned place re-opens when the server sees the abandonment (grace + sweep), whereas the nearest
# simulator rule (at_once) re-opens it when the worker vanishes; so live, a joiner always finds a queue place
# (places = hired - present - submitted) and is never turned away, while the simulation turns some away.
UNMODELLED: dict[str, dict[str, str]] = {
    "local": dict.fromkeys(("arrivals", "rejected"), "the local platform re-opens an abandoned place when the "
                           "abandonment is seen, a rule the simulator does not have (it re-opens at once)"),
}


@dataclass(frozen=True)
class Scaled:
    """The scaled scenario both sides run, the factor, and the server settings that go with it."""

    scenario: Scenario  # times in scaled seconds, wages per scaled hour
    factor: float
    grace_s: float  # the server's ABANDON_GRACE_S (scaled seconds)
    notes: tuple[str, ...]  # what was changed to describe the platform truthfully

    def server_env(self) -> dict[str, str]:
        """PAVILION_* settings of the server process, every interval scaled like the scenario."""
        k = self.factor
        return {
            "PAVILION_ABANDON_GRACE_S": f"{self.grace_s:.6g}",
            "PAVILION_QUEUE_REFRESH_S": f"{max(QUEUE_REFRESH_FLOOR_S, 0.5 / k):.6g}",
            "PAVILION_RECONCILE_S": f"{max(0.5, 60.0 / k):.6g}",
            "PAVILION_OUTBOX_RETRY_S": f"{max(0.2, 10.0 / k):.6g}",
            "PAVILION_MTURK_POLL_S": f"{max(0.1, 2.0 / k):.6g}",
        }

    def unscale(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Metrics of the scaled run in the scenario's own units (seconds, per hour)."""
        out = dict(metrics)
        for name in TIME_METRICS:
            if name in out:
                out[name] = out[name] * self.factor
        for name in PER_HOUR_METRICS:
            if name in out:
                out[name] = out[name] / self.factor
        return out


def _scale_distribution(table: Mapping[str, Any], k: float, where: str) -> dict[str, Any]:
    kind = table.get("dist")
    if kind == "empirical":
        raise InputError(f"{where}: empirical distributions cannot be rehearsed yet (give a fitted distribution)")
    out = dict(table)
    for key in ("mean", "value", "low", "high", "sd", "scale"):
        if key in out:
            out[key] = float(out[key]) / k
    return out


def live_limit(platform: str, scaled_s: float) -> float:
    """The assignment time limit (scaled seconds) the platform can really be given: MTurk takes whole seconds,
    30 at least; Prolific whole minutes, 5 at least for a 1-minute estimate (its floor is 2 + X + 2 sqrt(X))."""
    if platform == "mturk":
        return float(min(MTURK_MAX_S, max(30, round(scaled_s)))) if math.isfinite(scaled_s) else float(MTURK_MAX_S)
    if platform == "prolific":
        return math.inf if not math.isfinite(scaled_s) else 60.0 * max(PROLIFIC_LEAST_MINUTES, math.ceil(scaled_s / 60))
    return scaled_s


def detection(grace_s: float) -> dict[str, Any]:
    """How long the live server takes to see an abandonment: the grace, then the next presence sweep."""
    return {"dist": "uniform", "low": grace_s, "high": grace_s + PRESENCE_SWEEP_S}


def scale(scenario: Scenario, factor: float, platform: str, grace_floor_s: float = GRACE_FLOOR_S) -> Scaled:
    """The scenario with every duration divided by `factor`, under the slot rules of `platform`."""
    if not (math.isfinite(factor) and factor >= 1):
        raise InputError(f"--time-scale must be a number >= 1, got {factor:g}")
    if platform not in PLATFORM_SLOT_RULES:
        raise InputError(f"--platform must be one of {', '.join(PLATFORM_SLOT_RULES)}, got {platform!r}")
    notes: list[str] = []
    rules = PLATFORM_SLOT_RULES[platform]
    if rules:
        scenario = scenario.with_overrides(rules)
        notes.append(f"{platform} platform: " + ", ".join(f"{k.split('.')[-1]} = {v}" for k, v in rules.items()))
    data = scenario.to_dict()
    w, run, pay = data["workload"], data["run"], data["payment"]
    arrivals = w["arrivals"]
    if arrivals.get("mode") != "pooled":
        raise InputError("workload.arrivals.mode: rehearse drives pooled arrivals only (a Poisson stream of joiners)")
    arrivals["rate_per_hour"] = float(arrivals["rate_per_hour"]) * factor
    for key in DISTRIBUTION_KEYS:
        w[key] = _scale_distribution(w[key], factor, f"workload.{key}")
    grace = max(grace_floor_s, scenario.workload.abandon_detection_s.mean / factor)
    w["abandon_detection_s"] = detection(grace)
    notes.append(f"abandon_detection_s = the server's grace ({grace * factor:g} s; the scenario's mean "
                 f"{scenario.workload.abandon_detection_s.mean:g} s, at least {grace_floor_s:g} scaled s) plus up "
                 f"to one presence sweep ({PRESENCE_SWEEP_S * factor:g} s): uniform")
    w["assignment_duration_s"] = live_limit(platform, float(w["assignment_duration_s"]) / factor)
    if w["assignment_duration_s"] * factor != scenario.workload.assignment_duration_s:
        notes.append(f"assignment_duration_s = {w['assignment_duration_s'] * factor:g} s: the nearest limit the "
                     f"{platform} platform takes at this time scale")
    run["horizon_s"] = float(run["horizon_s"]) / factor
    run["warmup_s"] = float(run["warmup_s"]) / factor
    for key in ("waiting_wage_per_hour", "active_wage_per_hour"):
        pay[key] = float(pay[key]) * factor  # pay per scaled hour: costs come out unscaled
    return Scaled(load_scenario(data), factor, grace, tuple(notes))
