"""Per-slot fill times (`time_to_fill_s`) when the log does not say which open slot each joiner took.

With slots opened at different times open together, a join could have taken any of them. Matching uniformly at
random is exact for exponential fill times (every open slot is then equally likely to be the one taken), so the
families are first fitted and compared by AIC on such a matching. When a non-exponential family wins, the slot each
joiner took is imputed again with probability proportional to that fit's hazard at each open slot's age (the
chance, given the past, that it was that slot), IMPUTATIONS times; the family is refitted on each, and the
estimates are pooled by Rubin's rules on the log scale, so the intervals carry the matching's uncertainty too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pavilion.sim.calibration.arrivals import Chooser, slot_spells
from pavilion.sim.calibration.fits import DurationFit, Estimate, FamilyFit, fit_duration, fit_family
from pavilion.sim.calibration.observations import JobSlots

IMPUTATIONS = 3


def uniform_chooser(rng: np.random.Generator) -> Chooser:
    """Any open slot, each as likely."""
    return lambda take, opened: int(rng.integers(len(opened)))


def hazard_chooser(fit: FamilyFit, rng: np.random.Generator) -> Chooser:
    """An open slot with probability proportional to the fitted hazard at its age."""

    def choose(take: float, opened: list[float]) -> int:
        ages = np.maximum(take - np.asarray(opened), 1e-9)
        log_h = fit.log_hazard(ages)
        top = float(np.max(log_h))
        if not math.isfinite(top):  # every slot so young (or old) that the hazard under- or overflows
            return int(rng.integers(len(opened)))
        weights = np.exp(log_h - top)
        return int(rng.choice(len(opened), p=weights / weights.sum()))

    return choose


def rubin(estimates: Sequence[Estimate]) -> Estimate:
    """Estimates of one parameter from several imputations pooled on the log scale (Rubin's rules, t quantile)."""
    from scipy.stats import t

    m = len(estimates)
    logs = np.log([e.value for e in estimates])
    within = np.mean([(math.log(e.high / e.low) / (2 * 1.959963984540054)) ** 2 for e in estimates])
    between = float(np.var(logs, ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    df = (m - 1) * (1 + within / ((1 + 1 / m) * between)) ** 2 if between > 0 else math.inf
    q = float(t.ppf(0.975, df)) if math.isfinite(df) else 1.959963984540054
    centre, half = float(np.mean(logs)), q * math.sqrt(total)
    return Estimate(estimates[0].name, math.exp(centre), math.exp(centre - half), math.exp(centre + half))


def fit_fill(jobs: Sequence[JobSlots], hire_delay_s: float, families: Sequence[str], seed: int = 0) -> DurationFit:
    """Fill-time fits, best AIC first (AICs from the uniform matching); the chosen family pooled over imputations."""
    rng = np.random.default_rng(seed)
    spells = slot_spells(jobs, hire_delay_s, uniform_chooser(rng))
    first = fit_duration(spells.fill.times, spells.fill.observed, families)
    chosen = first.chosen
    if chosen is None or chosen.family == "exponential":
        return first
    fits = []
    for _ in range(IMPUTATIONS):
        imputed = slot_spells(jobs, hire_delay_s, hazard_chooser(chosen, rng)).fill
        fits.append(fit_family(chosen.family, np.asarray(imputed.times), np.asarray(imputed.observed)))
    pooled = tuple(rubin([f.params[i] for f in fits]) for i in range(len(chosen.params)))
    combined = FamilyFit(chosen.family, pooled, chosen.log_likelihood, chosen.aic, None)
    return DurationFit(first.n, first.events, (combined, *first.fits[1:]), tuple(imputed.times),
                       tuple(imputed.observed), first.failed)
