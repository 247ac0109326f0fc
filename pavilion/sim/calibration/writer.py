"""The calibrated scenario as TOML that `pavilion simulate` loads as it is, with the evidence in header comments."""

from __future__ import annotations

from pathlib import Path

from pavilion.sim.calibration.calibrate import Calibration
from pavilion.sim.calibration.fits import DurationFit, Estimate
from pavilion.sim.calibration.shares import ShareFit
from pavilion.sim.toml_out import scenario_to_toml


def number(value: float) -> str:
    """A fitted number to 4 significant digits, without exponent noise for everyday sizes."""
    return f"{value:.4g}"


def interval(e: Estimate) -> str:
    """`name = value [low, high]`."""
    return f"{e.name} = {number(e.value)} [{number(e.low)}, {number(e.high)}]"


def duration_lines(key: str, fit: DurationFit, kept: str | None, what: str) -> list[str]:
    """Sample size, AIC table and the chosen family's parameters with 95% CIs."""
    head = f"{key}: {fit.n} {what}, {fit.events} observed, {fit.n - fit.events} censored"
    if kept is not None:
        return [f"{head}; kept from the base scenario ({kept})"]
    chosen = fit.fits[0]
    lines = [f"{head}; {chosen.family} by AIC",
             "  AIC: " + " | ".join(f"{f.family} {f.aic:.1f}" for f in fit.fits)
             + (f" | did not converge: {', '.join(fit.failed)}" if fit.failed else ""),
             "  " + ", ".join(interval(p) for p in chosen.params)]
    return lines


def share_lines(key: str, shares: ShareFit, kept: str | None) -> list[str]:
    head = f"{key}: {shares.total} departures observed"
    if kept is not None:
        return [f"{head}; kept from the base scenario ({kept})"]
    return [f"{head}: " + ", ".join(interval(e) for e in shares.shares)]


def arrival_lines(cal: Calibration) -> list[str]:
    kept = cal.kept.get("arrivals")
    lines: list[str] = []
    if cal.rate is not None:
        head = (f"arrivals: pooled, {cal.rate.takes} joins over {cal.rate.open_time_s / 3600:.3g} h with a slot open")
        lines.append(f"{head}; kept from the base scenario ({kept})" if kept else
                     f"{head}: {interval(cal.rate.rate_per_hour)} (exact Poisson CI)")
    elif cal.fill is not None:
        lines += duration_lines("arrivals.time_to_fill_s", cal.fill, kept, "slots")
        if kept is None:
            lines.append("  (which open slot each joiner took is not logged: AIC on a uniformly random matching; "
                         "a non-exponential fit pooled over imputed matchings)")
    if cal.spells.unmatched:
        lines.append(f"  {cal.spells.unmatched} joins found no open slot under the base scenario's slot rules")
    delay = cal.hire_delay
    if delay is None:
        lines.append(f"hire_delay_s: kept from the base scenario ({cal.kept.get('hire_delay_s')})")
    else:
        lines.append(f"hire_delay_s: constant, from {delay.hires} hires: {interval(delay.delay)} s (the upper end "
                     f"is the largest delay every join allows)")
    return lines


def header_lines(cal: Calibration, base_label: str) -> list[str]:
    """The comment block: sources, then one entry per fitted key."""
    obs = cal.observations
    lines = [f"Calibrated by `pavilion calibrate` from {len(obs.sources)} event log(s), {obs.rows} rows:",
             *[f"  {source}" for source in obs.sources],
             f"Policy, payment, run and every key not listed below: {base_label}.",
             "Intervals are 95%; durations fitted by censored maximum likelihood, chosen by lowest AIC.",
             f"Censoring: {obs.timeouts} timeouts, {obs.stopped} departures at the stop, "
             f"{obs.present_at_end} workers present at the end."]
    lines += duration_lines("waiting_patience_s", cal.patience, cal.kept.get("waiting_patience_s"), "waiting stints")
    lines += share_lines("waiting_exit", cal.waiting_exit, cal.kept.get("waiting_exit"))
    lines += duration_lines("active_duration_s", cal.active, cal.kept.get("active_duration_s"), "active stints")
    lines += share_lines("active_exit", cal.active_exit, cal.kept.get("active_exit"))
    lines += arrival_lines(cal)
    return lines


def scenario_text(cal: Calibration, base_label: str = "the embedded default scenario") -> str:
    """The calibrated scenario's TOML, header comments first."""
    header = "".join(f"# {line}".rstrip() + "\n" for line in header_lines(cal, base_label))
    return header + scenario_to_toml(cal.scenario)


def write_scenario(cal: Calibration, path: str | Path, base_label: str = "the embedded default scenario") -> Path:
    """Write scenario_text to `path` (its folder must exist)."""
    target = Path(path)
    target.write_text(scenario_text(cal, base_label), encoding="utf-8")
    return target
