"""Censored maximum-likelihood fits of a duration (lifelines): exponential, Weibull and lognormal, chosen by AIC.

Parameters come back in the scenario's own terms (exponential `mean`; Weibull `shape`, `scale`; lognormal `mean`,
`sd`) with 95% Wald intervals taken on the log scale (delta method on lifelines' variance matrix), so every
interval stays positive and is closer to symmetric in small samples than one on the natural scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pavilion.sim.distributions import lognormal_log_params

FAMILIES: tuple[str, ...] = ("exponential", "weibull", "lognormal")
MIN_EVENTS = 10  # fewer observed events than this: keep the base scenario's value
Z95 = 1.959963984540054
SHORTEST_S = 1e-3  # lifelines needs positive durations; an event logged at the instant its clock started


@dataclass(frozen=True)
class Estimate:
    """One fitted number with its 95% confidence interval."""

    name: str
    value: float
    low: float
    high: float

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high


@dataclass(frozen=True)
class FamilyFit:
    """One family fitted by censored maximum likelihood; `model` is the fitted lifelines object (None if combined)."""

    family: str
    params: tuple[Estimate, ...]
    log_likelihood: float
    aic: float
    model: Any

    def table(self, digits: int = 4) -> dict[str, Any]:
        """The scenario's distribution table, numbers to `digits` significant digits."""
        return {"dist": self.family, **{p.name: float(f"{p.value:.{digits}g}") for p in self.params}}

    def param(self, name: str) -> Estimate:
        return next(p for p in self.params if p.name == name)

    def frozen(self) -> Any:
        """The fitted distribution as a frozen scipy.stats object."""
        from scipy import stats

        v = {e.name: e.value for e in self.params}
        if self.family == "exponential":
            return stats.expon(scale=v["mean"])
        if self.family == "weibull":
            return stats.weibull_min(v["shape"], scale=v["scale"])
        mu, sigma = lognormal_log_params(v["mean"], v["sd"])
        return stats.lognorm(sigma, scale=math.exp(mu))

    def survival(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(self.frozen().sf(times), dtype=np.float64)

    def quantile(self, p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Times t with F(t) = p."""
        return np.asarray(self.frozen().ppf(p), dtype=np.float64)

    def log_hazard(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        dist = self.frozen()
        return np.asarray(dist.logpdf(times) - dist.logsf(times), dtype=np.float64)


@dataclass(frozen=True)
class DurationFit:
    """All families fitted to one duration, best (lowest AIC) first; `chosen` is None with too few events."""

    n: int
    events: int
    fits: tuple[FamilyFit, ...]
    times: tuple[float, ...]
    observed: tuple[bool, ...]
    failed: tuple[str, ...] = ()

    @property
    def chosen(self) -> FamilyFit | None:
        return self.fits[0] if self.fits and self.events >= MIN_EVENTS else None

    def family(self, name: str) -> FamilyFit | None:
        return next((f for f in self.fits if f.family == name), None)


def _log_interval(value: float, gradient: Sequence[float], cov: npt.NDArray[np.float64], name: str) -> Estimate:
    """value's CI from the gradient of log(value) in the fitted parameters and their covariance."""
    g = np.asarray(gradient, dtype=np.float64)
    se = math.sqrt(max(float(g @ cov @ g), 0.0))
    return Estimate(name, value, value * math.exp(-Z95 * se), value * math.exp(Z95 * se))


def _estimates(family: str, model: Any) -> tuple[Estimate, ...]:
    cov = np.asarray(model.variance_matrix_, dtype=np.float64)
    if family == "exponential":
        mean = float(model.lambda_)  # lifelines' exponential lambda_ is the mean
        return (_log_interval(mean, [1 / mean], cov, "mean"),)
    if family == "weibull":
        scale, shape = float(model.lambda_), float(model.rho_)  # covariance order: lambda_, rho_
        return (_log_interval(shape, [0.0, 1 / shape], cov, "shape"),
                _log_interval(scale, [1 / scale, 0.0], cov, "scale"))
    mu, sigma = float(model.mu_), float(model.sigma_)  # covariance order: mu_, sigma_
    mean = math.exp(mu + sigma**2 / 2)
    excess = math.expm1(sigma**2)
    sd = mean * math.sqrt(excess)
    # d log(mean) = d mu + sigma d sigma; log(sd) = log(mean) + log(expm1(sigma^2)) / 2
    d_sd_sigma = sigma + sigma * (excess + 1) / excess
    return (_log_interval(mean, [1.0, sigma], cov, "mean"), _log_interval(sd, [1.0, d_sd_sigma], cov, "sd"))


def _fitter(family: str) -> Any:
    from lifelines import ExponentialFitter, LogNormalFitter, WeibullFitter

    return {"exponential": ExponentialFitter, "weibull": WeibullFitter, "lognormal": LogNormalFitter}[family]()


def _start(family: str, times: npt.NDArray[np.float64], observed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """A starting point near the optimum (lifelines' own is generic): it saves about a third of a fit's time."""
    mean = float(times.sum() / max(int(observed.sum()), 1))  # the exponential's exact maximum-likelihood mean
    if family == "lognormal":
        return np.array([math.log(float(np.median(times))), 1.0])
    return np.array([mean, 1.0]) if family == "weibull" else np.array([mean])


def fit_family(family: str, times: npt.NDArray[np.float64], observed: npt.NDArray[np.bool_]) -> FamilyFit:
    """One family by censored maximum likelihood (raises lifelines' ConvergenceError when it does not converge)."""
    model = _fitter(family)
    times = np.maximum(times, SHORTEST_S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' approximation and convergence chatter; failures still raise
        model.fit(times, observed, timeline=[float(np.max(times))], initial_point=_start(family, times, observed))
    return FamilyFit(family, _estimates(family, model), float(model.log_likelihood_), float(model.AIC_), model)


def fit_duration(times: Sequence[float], observed: Sequence[bool],
                 families: Sequence[str] = FAMILIES) -> DurationFit:
    """Every family that converges, sorted by AIC; none at all when there are fewer than MIN_EVENTS events."""
    t = np.asarray(times, dtype=np.float64)
    e = np.asarray(observed, dtype=np.bool_)
    events = int(e.sum())
    fits: list[FamilyFit] = []
    failed: list[str] = []
    if events >= MIN_EVENTS:
        for family in families:
            try:
                fits.append(fit_family(family, t, e))
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):  # lifelines' ConvergenceError included
                failed.append(family)
    fits.sort(key=lambda f: f.aic)
    return DurationFit(len(t), events, tuple(fits), tuple(t.tolist()), tuple(e.tolist()), tuple(failed))
