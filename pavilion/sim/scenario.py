"""Scenarios: the TOML schema of DESIGN.md section 4, merged onto the default, validated, with dotted overrides."""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavilion.core import QueueConfig, get_policy
from pavilion.errors import InputError
from pavilion.sim.defaults import DEFAULT_SCENARIO_TOML
from pavilion.sim.distributions import PARAMETERS, Distribution, parse_distribution

Data = dict[str, Any]

DISTRIBUTION_KEYS = ("waiting_patience_s", "active_duration_s", "abandon_detection_s", "hire_delay_s")
EXIT_KEYS = ("waiting_exit", "active_exit")
EXIT_KINDS = ("submitted", "returned", "abandoned")
ARRIVAL_MODES = ("pooled", "per_slot")
POLICY_INTS = ("min_active", "max_active", "min_waiting", "max_waiting")
PAYMENT_KEYS = ("reward", "waiting_wage_per_hour", "active_wage_per_hour", "platform_fee")
RUN_KEYS = ("horizon_s", "warmup_s", "replications", "seed")
WORKLOAD_KEYS = ("arrivals", "waiting_patience_s", "waiting_exit", "active_duration_s", "active_exit",
                 "abandon_detection_s", "hire_delay_s", "assignment_duration_s", "abandoned_slot_reopens")
ARRIVAL_KEYS = ("mode", "rate_per_hour", "time_to_fill_s")
REOPEN_RULES = ("at_once", "at_deadline")
TABLES = {"policy": ("name", *POLICY_INTS), "workload": WORKLOAD_KEYS, "payment": PAYMENT_KEYS, "run": RUN_KEYS}
# Keys whose values are text: a command-line string given for them is kept as it is, never parsed.
_TEXT_LEAVES = ("name", "mode", "dist", "file", "abandoned_slot_reopens")


@dataclass(frozen=True)
class PolicySettings:
    """`[policy]`: which registered policy, and its queue sizes."""

    name: str
    min_active: int
    max_active: int
    min_waiting: int
    max_waiting: int

    @property
    def config(self) -> QueueConfig:
        return QueueConfig(self.min_active, self.max_active, self.min_waiting, self.max_waiting)


@dataclass(frozen=True)
class Arrivals:
    """How workers find open slots: `pooled` (one Poisson stream at `rate_per_hour`) or `per_slot` (each open slot
    is taken after a `time_to_fill_s` draw; a per-slot `rate_per_hour` r is shorthand for exponential, mean 3600/r)."""

    mode: str
    rate_per_hour: float | None
    time_to_fill_s: Distribution | None = None


@dataclass(frozen=True)
class ExitMix:
    """How a worker leaves: probabilities of submitted, returned and abandoned (summing to 1)."""

    submitted: float
    returned: float
    abandoned: float


@dataclass(frozen=True)
class Workload:
    """`[workload]`: the reference workload model of DESIGN.md section 3."""

    arrivals: Arrivals
    waiting_patience_s: Distribution
    waiting_exit: ExitMix
    active_duration_s: Distribution
    active_exit: ExitMix
    abandon_detection_s: Distribution
    hire_delay_s: Distribution
    assignment_duration_s: float = math.inf
    abandoned_slot_reopens: str = "at_once"


@dataclass(frozen=True)
class Payment:
    """`[payment]`: reward per submitted slot, wages paid to submitters, and the platform's fee fraction."""

    reward: float
    waiting_wage_per_hour: float
    active_wage_per_hour: float
    platform_fee: float


@dataclass(frozen=True)
class RunSettings:
    """`[run]`: simulated seconds, the warmup excluded from metrics, replications and the root seed."""

    horizon_s: float
    warmup_s: float
    replications: int
    seed: int


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; `data` is its complete nested table (what `scenario_to_toml` writes)."""

    name: str
    policy: PolicySettings
    workload: Workload
    payment: Payment
    run: RunSettings
    data: Data

    def with_overrides(self, overrides: Mapping[str, object]) -> Scenario:
        """A new scenario with dotted keys replaced (`{"policy.max_waiting": 2}`); values may be text."""
        return build(apply_overrides(self.data, overrides))

    def to_dict(self) -> Data:
        """A deep copy of the complete nested table."""
        return copy.deepcopy(self.data)


def default_data() -> Data:
    """The embedded default as a nested table."""
    return tomllib.loads(DEFAULT_SCENARIO_TOML)


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario | None = None,
                  overrides: Mapping[str, object] | None = None) -> Scenario:
    """A scenario from a TOML file, a nested dict or the default (None), merged onto the default, then overridden.

    Keys missing from the file keep their default; a distribution table that names its `dist` replaces the
    default's table whole, and so does an exit table. An empirical distribution's `file` is resolved relative
    to the scenario file. Bad input raises InputError naming the dotted key.
    """
    if isinstance(source, Scenario):
        data, base_dir = source.to_dict(), None
    elif source is None:
        data, base_dir = default_data(), None
    elif isinstance(source, Mapping):
        data, base_dir = merge(default_data(), source), None
    else:
        path = Path(source)
        data, base_dir = merge(default_data(), read_toml(path)), path.resolve().parent
    if overrides:
        data = apply_overrides(data, overrides)
    return build(data, base_dir)


def read_toml(path: Path) -> Data:
    """A TOML file's tables; a missing or malformed file is an InputError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"scenario file {path}: not found") from None
    except OSError as exc:
        raise InputError(f"scenario file {path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"scenario file {path}: not valid TOML ({exc})") from None


def _replaces_whole(key: str, value: object) -> bool:
    # A table naming its own distribution kind, an exit mix or an arrivals table stands alone: mixing in the
    # default's parameters would leave keys the new kind does not take (a per-slot `time_to_fill_s` next to the
    # default's pooled `rate_per_hour`, say).
    if key in EXIT_KEYS or key == "arrivals":
        return True
    return key in DISTRIBUTION_KEYS and isinstance(value, Mapping) and "dist" in value


def merge(base: Data, given: Mapping[str, Any], depth: int = 0) -> Data:
    """`given` laid over `base` table by table (see load_scenario for which tables are replaced whole)."""
    out = copy.deepcopy(base)
    for key, value in given.items():
        old = out.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict) and not _replaces_whole(key, value):
            out[key] = merge(old, value, depth + 1)
        else:
            out[key] = copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value
    return out


def parse_text_value(key: str, text: str) -> object:
    """A command-line value: TOML syntax (`2`, `0.5`, `true`, `{dist="constant", value=5}`), else the text."""
    if key.rsplit(".", 1)[-1] in _TEXT_LEAVES:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _check_path(parts: list[str], key: str) -> None:
    """Refuse a dotted key that the schema does not have (the parameters of distributions are checked later)."""
    ok = False
    if len(parts) == 1:
        ok = parts[0] == "name"
    elif parts[0] in TABLES and parts[1] in TABLES[parts[0]]:
        if len(parts) == 2:
            ok = True
        elif len(parts) == 3 and parts[0] == "workload":
            sub = parts[1]
            ok = ((sub == "arrivals" and parts[2] in ARRIVAL_KEYS)
                  or (sub in EXIT_KEYS and parts[2] in EXIT_KINDS)
                  or (sub in DISTRIBUTION_KEYS and _is_distribution_leaf(parts[2])))
        elif len(parts) == 4 and parts[:3] == ["workload", "arrivals", "time_to_fill_s"]:
            ok = _is_distribution_leaf(parts[3])
    if not ok:
        raise InputError(f"unknown key '{key}'")


def _is_distribution_leaf(name: str) -> bool:
    return name == "dist" or any(name in names for names in PARAMETERS.values())


def apply_overrides(data: Data, overrides: Mapping[str, object]) -> Data:
    """A copy of `data` with each dotted key set; a new `.dist` clears the old kind's parameters first."""
    out = copy.deepcopy(data)
    # Kinds first, so `{"x.mean": 5, "x.dist": "exponential"}` works in either order.
    ordered = sorted(overrides.items(), key=lambda kv: not kv[0].endswith(".dist"))
    for key, raw in ordered:
        parts = key.split(".")
        _check_path(parts, key)
        value = parse_text_value(key, raw) if isinstance(raw, str) else raw
        table = out
        for depth, part in enumerate(parts[:-1]):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise InputError(f"{'.'.join(parts[:depth + 1])}: is {table!r}, not a table, so {key} cannot be set")
        leaf = parts[-1]
        if leaf == "dist" and table.get("dist") != value:
            table.clear()
        table[leaf] = copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value
    return out


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InputError(f"{where}: must be a number, got {value!r}")
    return float(value)


def _integer(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: must be an integer, got {value!r}")
    return value


def shown(value: object) -> str:
    """A value as the user wrote it: -3 rather than -3.0."""
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _require(ok: bool, where: str, rule: str, value: object) -> None:
    if not ok:
        raise InputError(f"{where}: must be {rule}, got {shown(value)}")


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise InputError(f"{key}: must be a table, got {value!r}")
    return value


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"unknown key '{prefix}{key}'")


def build(data: Data, base_dir: Path | None = None) -> Scenario:
    """Validate a complete nested table into a Scenario; the first bad key raises InputError."""
    _check_keys(data, ("name", *TABLES), "")
    for name, keys in TABLES.items():
        _check_keys(_table(data, name), keys, f"{name}.")
    title = data.get("name")
    if not isinstance(title, str):
        raise InputError(f"name: must be a string, got {title!r}")
    policy = _policy(_table(data, "policy"))
    workload = _workload(_table(data, "workload"), base_dir)
    stored = copy.deepcopy(data)
    for key in DISTRIBUTION_KEYS:
        stored["workload"][key] = {"dist": getattr(workload, key).kind, **getattr(workload, key).params}
    fill = workload.arrivals.time_to_fill_s
    if fill is not None and workload.arrivals.rate_per_hour is None:
        stored["workload"]["arrivals"]["time_to_fill_s"] = {"dist": fill.kind, **fill.params}
    stored["workload"]["assignment_duration_s"] = workload.assignment_duration_s
    return Scenario(title, policy, workload, _payment(_table(data, "payment")), _run(_table(data, "run")), stored)


def _policy(t: Mapping[str, Any]) -> PolicySettings:
    name = t.get("name")
    if not isinstance(name, str):
        raise InputError(f"policy.name: must be a string, got {name!r}")
    try:
        get_policy(name)
    except ValueError as exc:
        raise InputError(f"policy.name: {exc}") from None
    sizes = [_integer(t, key, f"policy.{key}") for key in POLICY_INTS]
    try:
        QueueConfig(*sizes)
    except ValueError as exc:
        # QueueConfig's messages start with the field's name.
        raise InputError(f"policy.{exc}") from None
    return PolicySettings(name, *sizes)


def _exit_mix(t: object, where: str) -> ExitMix:
    if not isinstance(t, Mapping):
        raise InputError(f"{where}: must be a table like {{submitted = 0.8, returned = 0.1, abandoned = 0.1}}")
    _check_keys(t, EXIT_KINDS, f"{where}.")
    shares = [_number(t, k, f"{where}.{k}") if k in t else 0.0 for k in EXIT_KINDS]
    for kind, share in zip(EXIT_KINDS, shares, strict=True):
        _require(0 <= share <= 1, f"{where}.{kind}", "a probability in [0, 1]", share)
    total = sum(shares)
    if abs(total - 1) > 1e-9:
        raise InputError(f"{where}: probabilities sum to {total:g}, not 1")
    return ExitMix(*shares)


def _arrivals(arrivals: object, base_dir: Path | None) -> Arrivals:
    if not isinstance(arrivals, Mapping):
        raise InputError(f"workload.arrivals: must be a table like {{mode = \"pooled\", rate_per_hour = 48}}, "
                         f"got {arrivals!r}")
    _check_keys(arrivals, ARRIVAL_KEYS, "workload.arrivals.")
    mode = arrivals.get("mode")
    _require(mode in ARRIVAL_MODES, "workload.arrivals.mode", f"one of {', '.join(ARRIVAL_MODES)}", mode)
    if "time_to_fill_s" in arrivals:
        if "rate_per_hour" in arrivals:
            raise InputError("workload.arrivals.time_to_fill_s: give it or workload.arrivals.rate_per_hour, not both "
                             "(a per-slot rate r is exponential time_to_fill_s with mean 3600/r)")
        if mode != "per_slot":
            raise InputError("workload.arrivals.time_to_fill_s: only per_slot arrivals take it (pooled arrivals take "
                             "rate_per_hour)")
        return Arrivals("per_slot", None,
                        parse_distribution(arrivals["time_to_fill_s"], "workload.arrivals.time_to_fill_s", base_dir))
    if "rate_per_hour" not in arrivals:
        raise InputError("workload.arrivals.rate_per_hour: missing (per_slot arrivals may give time_to_fill_s instead)")
    rate = _number(arrivals, "rate_per_hour", "workload.arrivals.rate_per_hour")
    _require(0 < rate < math.inf, "workload.arrivals.rate_per_hour", "> 0 and finite", rate)
    fill = Distribution("exponential", {"mean": 3600.0 / rate}) if mode == "per_slot" else None
    return Arrivals(str(mode), rate, fill)


def _slot_rules(t: Mapping[str, Any], e: dict[str, ExitMix]) -> tuple[float, str]:
    limit = _number(t, "assignment_duration_s", "workload.assignment_duration_s")
    _require(limit > 0, "workload.assignment_duration_s", "> 0 seconds (inf: no time limit)", limit)
    reopens = t.get("abandoned_slot_reopens")
    _require(reopens in REOPEN_RULES, "workload.abandoned_slot_reopens", f"one of {', '.join(REOPEN_RULES)}",
             reopens)
    if reopens == "at_deadline" and limit == math.inf and (e["waiting_exit"].abandoned or e["active_exit"].abandoned):
        raise InputError("workload.abandoned_slot_reopens: at_deadline with assignment_duration_s = inf and "
                         "abandonment possible: an abandoned slot would never re-open (set a finite "
                         "assignment_duration_s or at_once)")
    return limit, str(reopens)


def _workload(t: Mapping[str, Any], base_dir: Path | None) -> Workload:
    arrivals = _arrivals(t.get("arrivals"), base_dir)
    d = {key: parse_distribution(t.get(key), f"workload.{key}", base_dir) for key in DISTRIBUTION_KEYS}
    e = {key: _exit_mix(t.get(key), f"workload.{key}") for key in EXIT_KEYS}
    limit, reopens = _slot_rules(t, e)
    return Workload(arrivals, d["waiting_patience_s"], e["waiting_exit"], d["active_duration_s"],
                    e["active_exit"], d["abandon_detection_s"], d["hire_delay_s"], limit, reopens)


def _payment(t: Mapping[str, Any]) -> Payment:
    values = [_number(t, key, f"payment.{key}") for key in PAYMENT_KEYS]
    for key, value in zip(PAYMENT_KEYS, values, strict=True):
        _require(0 <= value < math.inf, f"payment.{key}", ">= 0 and finite", value)
    _require(values[3] < 1, "payment.platform_fee", "a fraction below 1 (0.20 is 20%)", values[3])
    return Payment(*values)


def _run(t: Mapping[str, Any]) -> RunSettings:
    horizon = _number(t, "horizon_s", "run.horizon_s")
    _require(0 < horizon < math.inf, "run.horizon_s", "> 0 and finite", horizon)
    warmup = _number(t, "warmup_s", "run.warmup_s")
    _require(0 <= warmup < horizon, "run.warmup_s", f">= 0 and below run.horizon_s ({horizon:g})", warmup)
    replications = _integer(t, "replications", "run.replications")
    _require(replications >= 1, "run.replications", ">= 1", replications)
    seed = _integer(t, "seed", "run.seed")
    _require(seed >= 0, "run.seed", ">= 0", seed)
    return RunSettings(horizon, warmup, replications, seed)
