"""`--report DIR`: report.md with every fit and its intervals, Kaplan-Meier curves against the fits, QQ plots."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pavilion.sim.calibration.calibrate import Calibration
from pavilion.sim.calibration.fits import DurationFit
from pavilion.sim.calibration.writer import header_lines, interval, number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STYLES = {"exponential": ":", "weibull": "--", "lognormal": "-."}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _kaplan_meier(fit: DurationFit) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], object]:
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km.fit(np.asarray(fit.times), np.asarray(fit.observed))
    frame = km.survival_function_
    return frame.index.to_numpy(dtype=np.float64), frame.iloc[:, 0].to_numpy(dtype=np.float64), km


def km_plot(key: str, fit: DurationFit) -> Figure:
    """The Kaplan-Meier survival curve with its 95% band, and each fitted family's survival function."""
    times, survival, km = _kaplan_meier(fit)
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    band = km.confidence_interval_survival_function_  # type: ignore[attr-defined]
    ax.fill_between(band.index.to_numpy(dtype=np.float64), band.iloc[:, 0], band.iloc[:, 1], step="post",
                    alpha=0.2, color="black", label="Kaplan-Meier 95%")
    ax.step(times, survival, where="post", color="black", label="Kaplan-Meier")
    grid = np.linspace(0.0, float(max(fit.times)), 200)
    for family in fit.fits:
        ax.plot(grid, family.survival(grid), STYLES.get(family.family, "-"),
                label=f"{family.family} (AIC {family.aic:.1f})")
    ax.set(xlabel="seconds", ylabel="still there (survival)", ylim=(0, 1.02),
           title=f"{key}: {fit.events} observed, {fit.n - fit.events} censored")
    ax.legend(fontsize="small")
    return fig


def qq_plot(key: str, fit: DurationFit) -> Figure:
    """Observed quantiles (Kaplan-Meier, so censoring is honoured) against each family's quantiles."""
    times, survival, _ = _kaplan_meier(fit)
    keep = (times > 0) & (survival < 1) & (survival > 0)
    observed, p = times[keep], 1 - survival[keep]
    fig = _figure(5.2, 5.2)
    ax = fig.add_subplot()
    top = float(observed.max()) if observed.size else 1.0
    for family in fit.fits:
        ax.plot(family.quantile(p), observed, "o", markersize=3, alpha=0.7, label=family.family)
    ax.plot([0, top], [0, top], color="black", linewidth=1, label="y = x")
    ax.set(xlabel="fitted quantile (s)", ylabel="observed quantile, Kaplan-Meier (s)", title=f"{key}: QQ plot")
    ax.legend(fontsize="small")
    return fig


def _duration_section(key: str, fit: DurationFit, kept: str | None, plots: list[str]) -> list[str]:
    lines = [f"## {key}", "", f"{fit.n} stints, {fit.events} observed, {fit.n - fit.events} censored.", ""]
    if kept is not None:
        return [*lines, f"Kept from the base scenario: {kept}.", ""]
    lines += ["| family | AIC | log-likelihood | parameters (95% CI) |", "|---|---|---|---|"]
    for f in fit.fits:
        lines.append(f"| {f.family}{' (chosen)' if f is fit.fits[0] else ''} | {f.aic:.1f} | "
                     f"{f.log_likelihood:.1f} | {'; '.join(interval(p) for p in f.params)} |")
    lines.append("")
    lines += [f"![{name}](plots/{name})" for name in plots]
    return [*lines, ""]


def render_report(cal: Calibration, base_label: str, plots: dict[str, list[str]]) -> str:
    """report.md: the summary (the scenario's header), one section per duration, shares and arrivals."""
    lines = ["# Calibration", "", "```", *header_lines(cal, base_label), "```", ""]
    durations = [("waiting_patience_s", cal.patience), ("active_duration_s", cal.active)]
    if cal.fill is not None:
        durations.append(("time_to_fill_s", cal.fill))
    for key, fit in durations:
        kept = cal.kept.get("arrivals" if key == "time_to_fill_s" else key)
        lines += _duration_section(key, fit, kept, plots.get(key, []))
    lines += ["## Exit shares", "", "| key | departures | submitted | returned | abandoned |", "|---|---|---|---|---|"]
    for key, shares in (("waiting_exit", cal.waiting_exit), ("active_exit", cal.active_exit)):
        cells = " | ".join(f"{number(e.value)} [{number(e.low)}, {number(e.high)}]" for e in shares.shares)
        note = " (kept from base)" if key in cal.kept else ""
        lines.append(f"| {key}{note} | {shares.total} | {cells} |")
    lines += ["", "## The calibrated scenario", "", "```toml", _toml(cal), "```", ""]
    return "\n".join(lines)


def _toml(cal: Calibration) -> str:
    from pavilion.sim.toml_out import scenario_to_toml

    return scenario_to_toml(cal.scenario).rstrip()


def write_report(cal: Calibration, folder: Path, base_label: str) -> list[str]:
    """Fill `folder` with report.md and plots/*.png; returns the plots' file names."""
    plot_dir = folder / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    plots: dict[str, list[str]] = {}
    durations = [("waiting_patience_s", cal.patience), ("active_duration_s", cal.active)]
    if cal.fill is not None:
        durations.append(("time_to_fill_s", cal.fill))
    for key, fit in durations:
        if not fit.fits:
            continue
        names = []
        for kind, make in (("km", km_plot), ("qq", qq_plot)):
            name = f"{kind}_{key}.png"
            make(key, fit).savefig(plot_dir / name, dpi=110)
            names.append(name)
        plots[key] = names
    (folder / "report.md").write_text(render_report(cal, base_label, plots), encoding="utf-8")
    return [name for names in plots.values() for name in names]
