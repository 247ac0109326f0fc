"""The six duration distributions of a scenario, validated from TOML tables and sampled in batches."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pavilion.errors import InputError

FloatArray = npt.NDArray[np.float64]

# The parameters each kind takes, in the order the TOML writer prints them.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "exponential": ("mean",),
    "constant": ("value",),
    "uniform": ("low", "high"),
    "lognormal": ("mean", "sd"),
    "weibull": ("shape", "scale"),
    "empirical": ("file",),
}
KINDS = tuple(PARAMETERS)


@dataclass(frozen=True)
class Distribution:
    """A non-negative duration in seconds: `kind` is one of KINDS, `params` its numbers (or the CSV file)."""

    kind: str
    params: dict[str, Any]
    samples: FloatArray | None = field(default=None, compare=False, repr=False)

    @property
    def mean(self) -> float:
        """The distribution's mean in seconds."""
        p = self.params
        if self.kind in ("exponential", "lognormal"):
            return float(p["mean"])
        if self.kind == "constant":
            return float(p["value"])
        if self.kind == "uniform":
            return (float(p["low"]) + float(p["high"])) / 2
        if self.kind == "weibull":
            return float(p["scale"]) * math.gamma(1 + 1 / float(p["shape"]))
        assert self.samples is not None
        return float(self.samples.mean())

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """n independent draws from rng."""
        p = self.params
        if self.kind == "exponential":
            return rng.exponential(float(p["mean"]), n)
        if self.kind == "constant":
            return np.full(n, float(p["value"]))
        if self.kind == "uniform":
            return rng.uniform(float(p["low"]), float(p["high"]), n)
        if self.kind == "lognormal":
            mu, sigma = lognormal_log_params(float(p["mean"]), float(p["sd"]))
            return rng.lognormal(mu, sigma, n)
        if self.kind == "weibull":
            return float(p["scale"]) * rng.weibull(float(p["shape"]), n)
        assert self.samples is not None
        return rng.choice(self.samples, n)


def lognormal_log_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal for a lognormal with this mean and standard deviation."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    if key not in table:
        raise InputError(f"{where}.{key}: missing (a {table.get('dist')} distribution needs it)")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}.{key}: must be a number, got {value!r}")
    if math.isnan(value):
        raise InputError(f"{where}.{key}: must be a number, got nan")
    return float(value)


def _check(where: str, key: str, ok: bool, rule: str, value: object) -> None:
    if not ok:
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        raise InputError(f"{where}.{key}: must be {rule}, got {shown}")


def read_empirical(path: Path, where: str) -> FloatArray:
    """The seconds in a one-column CSV (an optional header line is skipped); each must be finite and >= 0."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    except OSError as exc:
        raise InputError(f"{where}.file: cannot read {str(path)!r} ({exc.strerror or type(exc).__name__})") from None
    values: list[float] = []
    for number, row in enumerate(rows, start=1):
        if len(row) != 1:
            raise InputError(f"{where}.file: {path.name} line {number}: expected one column, got {len(row)}")
        try:
            value = float(row[0])
        except ValueError:
            if number == 1:
                continue  # a header
            raise InputError(f"{where}.file: {path.name} line {number}: {row[0]!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{where}.file: {path.name} line {number}: seconds must be finite and >= 0, got {value}")
        values.append(value)
    if not values:
        raise InputError(f"{where}.file: {path.name} holds no values")
    return np.asarray(values, dtype=np.float64)


def parse_distribution(table: object, where: str, base_dir: Path | None = None) -> Distribution:
    """Validate one `{dist = ..., ...}` table; errors name the dotted key (`where` is the table's own key)."""
    if not isinstance(table, Mapping):
        raise InputError(f"{where}: must be a table like {{dist = \"exponential\", mean = 60}}, got {table!r}")
    kind = table.get("dist")
    if kind not in PARAMETERS:
        raise InputError(f"{where}.dist: must be one of {', '.join(KINDS)}, got {kind!r}")
    for key in table:
        if key != "dist" and key not in PARAMETERS[kind]:
            raise InputError(f"unknown key '{where}.{key}' (a {kind} distribution takes {', '.join(PARAMETERS[kind])})")
    if kind == "empirical":
        raw = table.get("file")
        if not isinstance(raw, str) or not raw:
            raise InputError(f"{where}.file: must be the path of a one-column CSV of seconds, got {raw!r}")
        path = Path(raw)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        path = path.resolve()
        return Distribution(kind, {"file": str(path)}, read_empirical(path, where))
    params = {key: _number(table, key, where) for key in PARAMETERS[kind]}
    _validate_numbers(kind, params, where)
    return Distribution(kind, params)


def _validate_numbers(kind: str, p: dict[str, float], where: str) -> None:
    if kind == "exponential":
        _check(where, "mean", 0 < p["mean"] < math.inf, "> 0 and finite", p["mean"])
    elif kind == "constant":
        # inf is allowed: "never" (for instance infinite patience).
        _check(where, "value", p["value"] >= 0, ">= 0", p["value"])
    elif kind == "uniform":
        _check(where, "low", 0 <= p["low"] < math.inf, ">= 0 and finite", p["low"])
        _check(where, "high", p["low"] <= p["high"] < math.inf, f">= low ({p['low']:g}) and finite", p["high"])
    elif kind == "lognormal":
        _check(where, "mean", 0 < p["mean"] < math.inf, "> 0 and finite", p["mean"])
        _check(where, "sd", 0 <= p["sd"] < math.inf, ">= 0 and finite", p["sd"])
    elif kind == "weibull":
        _check(where, "shape", 0 < p["shape"] < math.inf, "> 0 and finite", p["shape"])
        _check(where, "scale", 0 < p["scale"] < math.inf, "> 0 and finite", p["scale"])
