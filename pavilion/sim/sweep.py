"""Parameter sweeps: a grid of scenario overrides times seeded replications, run serially, on processes or on Dask."""

from __future__ import annotations

import itertools
import math
import multiprocessing
import signal
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from pavilion.errors import InputError
from pavilion.sim.confidence import summarise
from pavilion.sim.paired import baseline_points, paired_differences
from pavilion.sim.precision import Precision, refine

if TYPE_CHECKING:
    from pavilion.sim import Scenario

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], object]

SCHEDULER_TIMEOUT_S = 5.0
QUEUE_FIELDS = ("min_active", "max_active", "min_waiting", "max_waiting")


class SweepResult(NamedTuple):
    """`runs`: one row per point and replication; `summary`: one row per point (see `confidence.summarise`,
    and `paired.paired_differences` for the `_diff_` columns of a baseline)."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    baseline: tuple[int | None, ...] | None = None  # each point's baseline row, when a baseline was given


@dataclass(frozen=True)
class RunSpec:
    """One replication of one grid point: everything a worker process needs, and nothing else."""

    point: int
    replication: int
    root_seed: int
    scenario: Scenario
    independent: bool = False

    @property
    def seed(self) -> int:
        """This run's seed (derived where the run happens, so a big sweep does not derive them all up front)."""
        return run_seed(self.root_seed, self.point, self.replication, self.independent)


def expand_grid(grid: Mapping[str, Sequence[object]]) -> list[dict[str, object]]:
    """The Cartesian product of the grid, keys in the given order, the last key varying fastest."""
    for key, values in grid.items():
        if isinstance(values, str | bytes) or len(values) == 0:
            raise InputError(f"sweep {key}: give a non-empty list of values")
    keys = list(grid)
    # numpy scalars (from np.arange or a DataFrame row) become Python numbers, as a scenario file would hold them
    plain = [[v.item() if isinstance(v, np.generic) else v for v in values] for values in grid.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*plain)]


def _blank(value: object) -> bool:
    """A grid value left out of a point (its policy does not read that key): None, or NaN once read from CSV."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def distinct_points(scenario: Scenario, points: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """The grid points with the `policy.*` sizes their policy does not read blanked (None), each distinct
    configuration once, in grid order: on-demand over four `max_waiting` values is one point, not four.

    The policy says which config fields it reads (`Policy.reads`); nothing here names a policy.
    """
    from pavilion.core import get_policy

    kept: list[dict[str, object]] = []
    for point in points:
        name = point.get("policy.name", scenario.policy.name)
        try:
            # a policy registered without `reads` is taken to read every size
            reads: tuple[str, ...] = getattr(get_policy(str(name)), "reads", QUEUE_FIELDS)
        except ValueError:
            reads = QUEUE_FIELDS  # an unknown policy: the scenario's validation will name it
        blanked = {k: None if _unread(k, reads) else v for k, v in point.items()}
        if blanked not in kept:
            kept.append(blanked)
    return kept


def _unread(key: str, reads: tuple[str, ...]) -> bool:
    table, _, field = key.partition(".")
    return table == "policy" and field in QUEUE_FIELDS and field not in reads


def grid_points(scenario: Scenario, grid: Mapping[str, Sequence[object]] | None) -> list[dict[str, object]]:
    """The points a sweep of `grid` runs: `expand_grid`, then `distinct_points`."""
    return distinct_points(scenario, expand_grid(grid or {}))


def run_seed(seed: int, point: int, replication: int, independent: bool = False) -> int:
    """The run's 63-bit seed. Common random numbers (the default): the entropy of
    `SeedSequence(seed).spawn(...)[replication]`, the same at every point, so replication r of every configuration
    sees the same crowd. `independent`: of `SeedSequence(seed).spawn(...)[point].spawn(...)[replication]`.

    Equal to `SeedSequence(seed, spawn_key=(replication,))` (or `(point, replication)`), so it depends on nothing
    but these numbers; `simulate(point_scenario, seed=run_seed(...))` repeats the run exactly.
    """
    key = (point, replication) if independent else (replication,)
    child = np.random.SeedSequence(seed, spawn_key=key)
    return int(child.generate_state(1, dtype=np.uint64)[0]) >> 1


def point_scenarios(scenario: Scenario, points: Sequence[Mapping[str, object]]) -> list[Scenario]:
    """Each point's scenario, built (and validated) up front."""
    out: list[Scenario] = []
    for point in points:
        given = {k: v for k, v in point.items() if not _blank(v)}
        out.append(scenario.with_overrides(given) if given else scenario)
    return out


def plan(scenario: Scenario, points: Sequence[Mapping[str, object]], replications: int, seed: int,
         independent: bool = False) -> list[RunSpec]:
    """Every run of the sweep, in output order; each point's scenario is built (and validated) here, up front."""
    if replications < 1:
        raise InputError(f"replications must be at least 1, got {replications}")
    specs: list[RunSpec] = []
    for index, point_scenario in enumerate(point_scenarios(scenario, points)):
        specs += [RunSpec(index, rep, seed, point_scenario, independent) for rep in range(replications)]
    return specs


def run_one(spec: RunSpec) -> tuple[int, dict[str, float]]:
    """Simulate one run: (its seed, its metrics). Module-level, so processes and Dask workers can unpickle it."""
    from pavilion.sim import simulate

    seed = spec.seed
    return seed, dict(simulate(spec.scenario, seed).metrics)


def run_batch(fn: Callable[[T], R], batch: Sequence[T]) -> list[R]:
    """Apply fn to a batch of tasks; batching keeps per-task overhead small next to short runs."""
    return [fn(task) for task in batch]


def _batches(tasks: Sequence[T], workers: int) -> list[list[T]]:
    """Split tasks in order into batches that shrink towards the end (at most 16 runs; then a share of what is left),
    so that workers finish together and a short run's overhead stays small."""
    batches: list[list[T]] = []
    start = 0
    while start < len(tasks):
        size = max(1, min(16, math.ceil((len(tasks) - start) / (2 * max(1, workers)))))
        batches.append(list(tasks[start : start + size]))
        start += size
    return batches


def execute(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[R]:
    """fn over tasks, results in task order, serially (jobs=1), on `jobs` local processes, or on a Dask cluster."""
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    tick: Progress = progress or (lambda n: None)
    if scheduler is not None:
        return _on_dask(fn, tasks, scheduler, tick)
    if jobs == 1 or len(tasks) <= 1:
        out: list[R] = []
        for task in tasks:
            out.append(fn(task))
            tick(1)
        return out
    return _on_processes(fn, tasks, jobs, tick)


def _ordered(batches: list[list[T]], finished: Iterable[tuple[int, list[R]]], tick: Progress) -> list[R]:
    """Collect (batch index, results) pairs as they finish and return the results in task order."""
    results: list[list[R] | None] = [None] * len(batches)
    for index, batch_results in finished:
        results[index] = batch_results
        tick(len(batch_results))
    return [r for batch in results if batch is not None for r in batch]


def _leave_interrupts_to_parent() -> None:
    """Workers ignore Ctrl-C: the parent stops the sweep and prints one line, not one traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_processes(fn: Callable[[T], R], tasks: Sequence[T], jobs: int, tick: Progress) -> list[R]:
    """Run the batches on a local process pool (fork where available: workers start in milliseconds)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    batches = _batches(tasks, jobs)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_leave_interrupts_to_parent)
    try:
        futures = {pool.submit(run_batch, fn, batch): i for i, batch in enumerate(batches)}
        finished: Iterator[tuple[int, list[R]]] = ((futures[f], f.result()) for f in as_completed(futures))
        return _ordered(batches, finished, tick)
    finally:
        # every result is in (or a run failed): let idle workers exit in the background rather than wait here
        pool.shutdown(wait=False, cancel_futures=True)


def check_reachable(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Open (and close) a TCP connection to the scheduler, so a wrong address fails fast and in one line."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme not in ("tcp", "tls") or not host or port is None:
        raise InputError(f"--scheduler {address}: expected tcp://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there ({reason})") from None


def connect(address: str) -> Any:
    """A Dask client for an existing scheduler; an unreachable or malformed address is an InputError."""
    from distributed import Client

    check_reachable(address)
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {address}: no Dask scheduler answered ({type(exc).__name__})") from None


def _on_dask(fn: Callable[[T], R], tasks: Sequence[T], address: str, tick: Progress) -> list[R]:
    """Run the batches on the cluster behind `address`; the results do not depend on which worker ran what."""
    from distributed import as_completed as dask_completed

    client = connect(address)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        batches = _batches(tasks, workers)
        futures = [client.submit(run_batch, fn, batch, pure=False) for batch in batches]
        index = {future.key: i for i, future in enumerate(futures)}
        done = dask_completed(futures, loop=client.loop)  # type: ignore[no-untyped-call]
        finished = ((index[f.key], f.result()) for f in done)
        return _ordered(batches, finished, tick)
    finally:
        client.close()


def runs_frame(specs: Sequence[RunSpec], points: Sequence[Mapping[str, object]],
               outcomes: Sequence[tuple[int, Mapping[str, float]]], metric_names: Sequence[str]) -> pd.DataFrame:
    """runs.csv as a frame: the swept keys, `replication`, `seed`, then every metric (NaN when empty)."""
    keys = list(points[0]) if points else []
    # object columns: a blank (None) next to integers must not turn 1, 2, 3 into 1.0, 2.0, 3.0
    columns: dict[str, object] = {key: pd.Series([points[spec.point][key] for spec in specs], dtype=object)
                                  for key in keys}
    columns["replication"] = np.array([spec.replication for spec in specs], dtype=np.int64)
    columns["seed"] = np.array([seed for seed, _ in outcomes], dtype=np.int64)
    for name in metric_names:
        columns[name] = np.array([values.get(name, math.nan) for _, values in outcomes], dtype=np.float64)
    return pd.DataFrame(columns)


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[object]] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    *,
    independent: bool = False,
    baseline: Mapping[str, object] | None = None,
    precision: Precision | None = None,
    grow: Progress | None = None,
) -> SweepResult:
    """Run every grid point `replications` times and summarise; same seed, same frames, whatever jobs or scheduler.

    `grid` maps dotted scenario keys to the values to try; points the policy cannot tell apart run once, with the
    keys it does not read left blank (see `distinct_points`); `replications` and `seed` default to the scenario's
    `[run]` table. Replication r uses the same seed at every point (common random numbers) unless `independent`.
    `baseline` ({"policy.name": "on-demand"}) adds each point's paired differences against its baseline
    (`pavilion.sim.paired`); `precision` adds replications until its half-width is met (`pavilion.sim.precision`).
    `progress` is called with the number of runs just finished, `grow` with the number of runs just added.
    """
    from pavilion.sim import METRICS

    points = grid_points(scenario, grid)
    base = baseline_points(scenario, grid or {}, points, baseline) if baseline is not None else None
    reps = int(scenario.run.replications) if replications is None else int(replications)
    root = int(scenario.run.seed) if seed is None else int(seed)
    specs = plan(scenario, points, reps, root, independent)
    scenarios = [specs[i * reps].scenario for i in range(len(points))]
    done = list(zip(specs, execute(run_one, specs, jobs=jobs, scheduler=scheduler, progress=progress), strict=True))
    if precision is not None:
        def values_of() -> dict[int, list[float]]:
            values: dict[int, list[float]] = {p: [] for p in range(len(points))}
            for spec, (_, metrics) in done:
                values[spec.point].append(metrics[precision.metric])
            return values

        def run_more(wanted: dict[int, int]) -> None:
            have = {p: len(v) for p, v in values_of().items()}
            more = [RunSpec(p, r, root, scenarios[p], independent)
                    for p, k in sorted(wanted.items()) for r in range(have[p], have[p] + k)]
            if grow is not None:
                grow(len(more))
            done.extend(zip(more, execute(run_one, more, jobs=jobs, scheduler=scheduler, progress=progress),
                            strict=True))

        refine(values_of, run_more, precision)
        done.sort(key=lambda pair: (pair[0].point, pair[0].replication))
    runs = runs_frame([s for s, _ in done], points, [o for _, o in done], list(METRICS))
    summary = summarise(runs, list(grid or {}), list(METRICS))
    if base is not None:
        diffs = paired_differences(runs, [s.point for s, _ in done], base, list(METRICS))
        summary = pd.concat([summary, diffs], axis=1)
    return SweepResult(runs, summary, None if base is None else tuple(base))
