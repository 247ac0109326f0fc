"""`rehearse()`: scale the scenario, run the live replications, simulate the same scenario, compare, write DIR."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pavilion.errors import InputError
from pavilion.rehearsal.api import Api
from pavilion.rehearsal.compare import Verdict, check_metrics, compare, per_metric_level, simulate_pool
from pavilion.rehearsal.driver import Replication, run_replication
from pavilion.rehearsal.live import start_live
from pavilion.rehearsal.livelog import live_metrics, read
from pavilion.rehearsal.scaling import (
    CHAOS_GRACE_FLOOR_S,
    DEFAULT_TIME_SCALE,
    GRACE_FLOOR_S,
    UNMODELLED,
    Scaled,
    scale,
)
from pavilion.sim import METRICS, load_scenario

DEFAULT_SIM_REPLICATIONS = 2000


@dataclass(frozen=True)
class RehearsalRequest:
    """Everything `pavilion rehearse` was asked; times (horizon, kill interval) in unscaled seconds."""

    scenario: str | Path | None = None
    overrides: Mapping[str, object] = field(default_factory=dict)
    platform: str = "local"
    time_scale: float = DEFAULT_TIME_SCALE
    replications: int = 1
    seed: int | None = None
    out: Path = Path("rehearsal")
    server_url: str = ""
    token: str = ""
    database_url: str = ""
    metrics: Sequence[str] = METRICS
    level: float = 0.95  # family-wise: the chance that a live system behaving as simulated passes every metric
    sim_replications: int = DEFAULT_SIM_REPLICATIONS
    kill_server_every_s: float = 0.0
    notification_faults: Mapping[str, float] = field(default_factory=dict)  # MTurk: duplicate, reorder, drop
    quiet: bool = False


@dataclass
class RehearsalOutcome:
    verdicts: list[Verdict]
    replications: list[Replication]
    scaled: Scaled
    per_metric_level: float
    live: list[dict[str, float]]

    @property
    def disagreeing(self) -> list[str]:
        return [v.metric for v in self.verdicts if v.agree == "no"]

    @property
    def exit_status(self) -> int:
        return 1 if self.disagreeing else 0


def _check(request: RehearsalRequest) -> None:
    if request.replications < 1:
        raise InputError(f"--replications must be >= 1, got {request.replications}")
    if request.sim_replications < 50:
        raise InputError(f"--sim-replications must be >= 50, got {request.sim_replications}")
    if not 0.5 <= request.level < 1:
        raise InputError(f"--level must be in [0.5, 1), got {request.level:g}")
    if request.kill_server_every_s < 0:
        raise InputError(f"--kill-server-every must be >= 0 seconds, got {request.kill_server_every_s:g}")
    if request.kill_server_every_s and request.server_url:
        raise InputError("--kill-server-every needs a server the rehearsal started (not --server)")
    check_metrics(request.metrics)


class _Progress:
    """A bar over the rehearsal's scaled time on stderr (when it is a terminal and not quiet)."""

    def __init__(self, total_s: float, quiet: bool) -> None:
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=round(total_s, 1), unit="s", desc="rehearse", file=sys.stderr, dynamic_ncols=True)
        self.offset = 0.0

    def __call__(self, t: float) -> None:
        if self.bar is not None:
            self.bar.n = round(min(self.offset + t, self.bar.total), 1)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def rehearse(request: RehearsalRequest) -> RehearsalOutcome:
    """Run the rehearsal of DESIGN section 10 and write its outputs to `request.out`."""
    from pavilion.rehearsal.report import write_outputs

    _check(request)
    scenario = load_scenario(request.scenario, overrides=dict(request.overrides))
    floor = CHAOS_GRACE_FLOOR_S if request.kill_server_every_s else GRACE_FLOOR_S
    scaled = scale(scenario, request.time_scale, request.platform, floor)
    seed = scenario.run.seed if request.seed is None else request.seed
    children = np.random.SeedSequence(seed).spawn(max(request.sim_replications, request.replications))
    out = Path(request.out)
    out.mkdir(parents=True, exist_ok=True)
    replications: list[Replication] = []
    progress = _Progress(request.replications * scaled.scenario.run.horizon_s, request.quiet)
    with tempfile.TemporaryDirectory(prefix="pavilion-rehearsal-") as workdir:
        faults = dict(request.notification_faults)
        live = start_live(request.platform, scaled, Path(workdir), request.database_url, request.server_url,
                          request.token, faults)
        api = Api(live.url, live.token)
        try:
            for index in range(request.replications):
                progress.offset = index * scaled.scenario.run.horizon_s
                replications.append(run_replication(
                    api, live.door_for, live.url, scaled, index, children[index], live.platform, live.server,
                    request.kill_server_every_s / scaled.factor, progress))
                (out / f"events-{index + 1}.csv").write_text(replications[-1].events_csv)
        finally:
            progress.close()
            api.close()
            live.close()
    live_runs = [scaled.unscale(live_metrics(read(r.events_csv), scaled.scenario)) for r in replications]
    pool = simulate_pool(scaled.scenario, children[: request.sim_replications])
    pool = pool.apply(lambda row: scaled.unscale(row.to_dict()), axis=1, result_type="expand")
    # Metrics the simulator cannot describe on this platform are reported but not voted on, unless asked for.
    asked = tuple(request.metrics) != tuple(METRICS)
    unmodelled = [] if asked else [m for m in UNMODELLED.get(request.platform, {}) if m in request.metrics]
    level = per_metric_level(request.level, len(request.metrics) - len(unmodelled))
    verdicts = compare(live_runs, pool, request.metrics, level, seed, unmodelled)
    outcome = RehearsalOutcome(verdicts, replications, scaled, level, live_runs)
    write_outputs(out, request, outcome, scenario)
    return outcome
