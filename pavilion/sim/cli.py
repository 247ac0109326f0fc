"""`pavilion simulate`: parse the study's flags, run the sweep with a progress bar, print the summary, write DIR."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavilion.errors import InputError

if TYPE_CHECKING:
    from pavilion.sim import Scenario
    from pavilion.sim.precision import Precision
    from pavilion.sim.report import Target
    from pavilion.sim.sweep import SweepResult


def parse_value(key: str, text: str) -> object:
    """A flag value as the scenario will hold it (TOML syntax: `2`, `0.5`, `true`; text keys and words stay text)."""
    from pavilion.sim.scenario import parse_text_value

    return parse_text_value(key, text)


def _split_pair(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip():
        raise InputError(f"{flag} {text!r}: expected KEY=VALUE with a dotted key, for example policy.max_waiting=2")
    return key, value.strip()


def parse_sets(items: Sequence[str]) -> dict[str, object]:
    """`--set K=V` flags as overrides; a key given twice is an error, not a silent last-wins."""
    overrides: dict[str, object] = {}
    for item in items:
        key, value = _split_pair(item, "--set")
        if key in overrides:
            raise InputError(f"--set {key}: given more than once")
        overrides[key] = parse_value(key, value)
    return overrides


def parse_sweeps(items: Sequence[str]) -> dict[str, list[object]]:
    """`--sweep K=V1,V2,...` flags as a grid, keys and values in the order given (so no value may hold a comma)."""
    grid: dict[str, list[object]] = {}
    for item in items:
        key, raw = _split_pair(item, "--sweep")
        values = [v.strip() for v in raw.split(",")]
        if any(not v for v in values):
            raise InputError(f"--sweep {item!r}: empty value in the list (expected K=V1,V2,...)")
        if len(set(values)) != len(values):
            raise InputError(f"--sweep {item!r}: a value is repeated")
        if key in grid:
            raise InputError(f"--sweep {key}: given more than once")
        grid[key] = [parse_value(key, v) for v in values]
    return grid


def parse_baseline(text: str) -> dict[str, object]:
    """`--baseline K=V[,K=V]` as settings (checked against the grid by the sweep, before anything runs)."""
    baseline: dict[str, object] = {}
    for item in text.split(","):
        key, value = _split_pair(item, "--baseline")
        if key in baseline:
            raise InputError(f"--baseline {key}: given more than once")
        baseline[key] = parse_value(key, value)
    return baseline


def _positive_int(text: str | None, flag: str, minimum: int = 1) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{flag} {text!r}: expected a whole number") from None
    if value < minimum:
        raise InputError(f"{flag} {text!r}: must be at least {minimum}")
    return value


def _positive_float(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{flag} {text!r}: expected a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{flag} {text!r}: must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class Request:
    """The validated flags of one `pavilion simulate` call."""

    source: Path | None
    preset: str | None
    overrides: dict[str, object]
    grid: dict[str, list[object]]
    jobs: int
    scheduler: str | None
    out: Path
    target: Target | None
    minimise: str
    quiet: bool
    baseline: dict[str, object] | None = None
    independent: bool = False
    precision: Precision | None = None
    exact: bool = False


def parse_request(args: argparse.Namespace) -> Request:
    """Check every flag before anything runs; each bad one is an InputError naming it."""
    from pavilion.sim import METRICS
    from pavilion.sim.precision import parse_precision
    from pavilion.sim.presets import preset_path
    from pavilion.sim.report import check_out_dir, parse_target

    out = Path(args.out)
    check_out_dir(out)
    if args.scenario and args.preset:
        raise InputError("give a scenario file or --preset, not both")
    source = preset_path(args.preset) if args.preset else Path(args.scenario) if args.scenario else None
    if source is not None and not source.is_file():
        raise InputError(f"scenario file {source}: not found")
    overrides, grid = parse_sets(args.set), parse_sweeps(args.sweep)
    both = sorted(set(overrides) & set(grid))
    if both:
        raise InputError(f"{both[0]}: both --set and --sweep; give one")
    run_flags = {
        "run.replications": _positive_int(args.replications, "--replications"),
        "run.seed": _positive_int(args.seed, "--seed", minimum=0),
        "run.horizon_s": _positive_float(args.horizon, "--horizon"),
    }
    overrides.update({k: v for k, v in run_flags.items() if v is not None})
    if args.minimise not in METRICS:
        raise InputError(f"--minimise {args.minimise!r}: unknown metric (known: {', '.join(METRICS)})")
    target = parse_target(args.target, list(METRICS)) if args.target is not None else None
    jobs = _positive_int(args.jobs, "--jobs") or 1
    baseline = parse_baseline(args.baseline) if args.baseline is not None else None
    cap = _positive_int(args.max_replications, "--max-replications", minimum=2)
    if cap is not None and args.precision is None:
        raise InputError("--max-replications: only with --precision")
    precision = parse_precision(args.precision, list(METRICS), cap) if args.precision is not None else None
    if args.exact and (baseline or precision or args.independent or args.target):
        raise InputError("--exact: solves each point's chain; --baseline, --precision, --independent and --target "
                         "are for simulated studies")
    return Request(source, args.preset, overrides, grid, jobs, args.scheduler, out, target, args.minimise, args.quiet,
                   baseline, bool(args.independent), precision, bool(args.exact))


def command_line(request: Request, scenario: Scenario) -> str:
    """The call that reproduces this study: every --set as given (run.* included), the effective run settings and
    every flag that changes the numbers or the answer."""
    parts = ["pavilion", "simulate"]
    parts += [f"--preset={request.preset}"] if request.preset else [str(request.source)] if request.source else []
    flagged = ("run.replications", "run.seed", "run.horizon_s")  # spelled out below with their effective values
    parts += [f"--set={k}={flag_value(k, v)}" for k, v in request.overrides.items() if k not in flagged]
    parts += [f"--sweep={k}={','.join(flag_value(k, v) for v in vs)}" for k, vs in request.grid.items()]
    parts += [f"--replications={scenario.run.replications}", f"--seed={scenario.run.seed}",
              f"--horizon={scenario.run.horizon_s!r}", f"--out={request.out}"]
    parts += [f"--target={request.target.metric}{request.target.op}{request.target.value!r}"] if request.target else []
    parts += [f"--minimise={request.minimise}"] if request.minimise != "cost_usd" else []
    if request.baseline:
        parts.append("--baseline=" + ",".join(f"{k}={flag_value(k, v)}" for k, v in request.baseline.items()))
    parts += ["--independent"] if request.independent else []
    parts += ["--exact"] if request.exact else []
    if request.precision is not None:
        p = request.precision
        parts += [f"--precision={p.metric}={p.half_width!r}", f"--max-replications={p.max_replications}"]
    return shlex.join(parts)


def flag_value(key: str, value: object) -> str:
    """A value as a flag gives it, so that `parse_value(key, flag_value(key, v)) == v` (TOML, or text as it is)."""
    from pavilion.sim.scenario import parse_text_value
    from pavilion.sim.toml_out import toml_value

    if isinstance(value, str) and parse_text_value(key, value) == value:
        return value
    return toml_value(value)


def run_sweep(request: Request, scenario: Scenario) -> SweepResult:
    """The sweep with a progress bar on stderr (runs done / total, rate, ETA) when stderr is a terminal."""
    from tqdm import tqdm

    from pavilion.sim.sweep import grid_points, sweep

    total = len(grid_points(scenario, request.grid)) * int(scenario.run.replications)
    tqdm.monitor_interval = 0  # no monitor thread: the process pool forks after this
    with tqdm(total=total, unit="run", desc="simulate", file=sys.stderr, delay=1.0, dynamic_ncols=True,
              disable=request.quiet or not sys.stderr.isatty()) as bar:
        def grow(count: int) -> None:
            bar.total = (bar.total or 0) + count
            bar.refresh()

        return sweep(scenario, request.grid, jobs=request.jobs, scheduler=request.scheduler, progress=bar.update,
                     independent=request.independent, baseline=request.baseline, precision=request.precision,
                     grow=grow)


def simulate_command(args: argparse.Namespace) -> int:
    """Run the whole study; bad input raises InputError before anything runs or is written."""
    from pavilion.sim import load_scenario
    from pavilion.sim.report import best_point, summary_table, write_atomically
    from pavilion.sim.study import timeline_of, write_study

    request = parse_request(args)
    scenario = load_scenario(str(request.source) if request.source else None, overrides=request.overrides)
    if request.exact:
        from pavilion.sim.exact_cli import exact_command

        return exact_command(request, scenario, command_line(request, scenario))
    result = run_sweep(request, scenario)
    best = best_point(result.summary, request.target, request.minimise) if request.target else None
    timeline = timeline_of(scenario, request.grid, 0 if best is None else best, request.independent)
    command = command_line(request, scenario)
    write_atomically(request.out, lambda tmp: write_study(tmp, request, scenario, result, timeline, best, command))
    print(summary_table(result.summary, list(request.grid)).to_string(index=False))
    print(_verdict_line(request, result, best))
    print(f"wrote {request.out}/: runs.csv summary.csv scenario.toml report.md plots/")
    return 0


def _verdict_line(request: Request, result: SweepResult, best: int | None) -> str:
    from pavilion.sim.report import point_label

    if request.target is None:
        return "no --target given: see report.md for the Pareto-optimal configurations"
    if best is None:
        return f"no configuration meets {request.target}"
    row: dict[Any, Any] = result.summary.iloc[best].to_dict()
    return f"best for {request.target} (minimising {request.minimise}): {point_label(row, list(request.grid))}"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `pavilion simulate` to the command line."""
    p = sub.add_parser("simulate", help="simulate a scenario, sweep its parameters, write a study folder",
                       description="Simulate a scenario (the embedded default when none is given), sweep parameters "
                                   "and write runs.csv, summary.csv, scenario.toml, report.md and plots/ to --out.")
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--preset", metavar="NAME", help="a shipped scenario preset (see README), instead of a file")
    p.add_argument("--set", action="append", default=[], metavar="K=V", help="override one dotted scenario key")
    p.add_argument("--sweep", action="append", default=[], metavar="K=V1,V2,...", help="sweep one dotted key")
    p.add_argument("--replications", metavar="N", help="replications per point (default: the scenario's [run])")
    p.add_argument("--seed", metavar="S", help="root seed (default: the scenario's [run])")
    p.add_argument("--horizon", metavar="SECONDS", help="simulated seconds per run (default: the scenario's [run])")
    p.add_argument("--jobs", metavar="N", default="1", help="local worker processes (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--out", metavar="DIR", default="results", help="output folder (default: results)")
    p.add_argument("--target", metavar="METRIC>=VALUE", help="choose the cheapest point meeting this, e.g. "
                                                               "availability>=0.95")
    p.add_argument("--minimise", metavar="METRIC", default="cost_usd", help="what --target minimises (cost_usd)")
    p.add_argument("--baseline", metavar="K=V[,K=V]", help="compare every point with this one, replication by "
                                                            "replication, e.g. policy.name=on-demand")
    p.add_argument("--independent", action="store_true", help="one seed per point and replication (default: common "
                                                              "random numbers, the same seeds at every point)")
    p.add_argument("--precision", metavar="METRIC=HALF_WIDTH", help="add replications until every point's 95%% "
                                                                    "half-width is below this, e.g. availability=0.005")
    p.add_argument("--max-replications", metavar="N", help="cap on replications per point with --precision "
                                                            "(default 200)")
    p.add_argument("--exact", action="store_true", help="solve the Markov chain of each point (exponential "
                                                        "scenarios only) instead of simulating")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=simulate_command)
