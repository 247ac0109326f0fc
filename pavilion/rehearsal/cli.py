"""`pavilion rehearse`: simulated workers drive a live server, and the live metrics are held against the simulation."""

from __future__ import annotations

import argparse
from pathlib import Path

from pavilion.errors import InputError

FAULTS = ("duplicate", "reorder", "drop")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `rehearse` (nothing heavy is imported until it runs)."""
    p = sub.add_parser("rehearse", help="drive a live server with simulated workers and compare with the simulation")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the embedded default)")
    p.add_argument("--preset", metavar="NAME", help="a shipped scenario preset, instead of a file")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="override a scenario key")
    p.add_argument("--platform", default="local", choices=("local", "mturk", "prolific"))
    p.add_argument("--time-scale", type=float, default=None, metavar="K",
                   help="divide every duration by K (default 60: the default scenario's 8 h in 8 min)")
    p.add_argument("--replications", type=int, default=1, help="live replications (default 1)")
    p.add_argument("--sim-replications", type=int, default=None, metavar="N",
                   help="simulated replications behind each interval (default 2000)")
    p.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's run.seed)")
    p.add_argument("--metrics", default=None, metavar="A,B,...", help="metrics to compare (default: all)")
    p.add_argument("--level", type=float, default=0.95,
                   help="family-wise coverage of the intervals (default 0.95; split over the metrics)")
    p.add_argument("--server", default="", metavar="URL", help="use this running server (local platform)")
    p.add_argument("--token", default="", help="API token for --server")
    p.add_argument("--database-url", default="", help="database of the server we start (default: fresh SQLite)")
    p.add_argument("--kill-server-every", type=float, default=0.0, metavar="S",
                   help="kill -9 and restart the server every S scenario seconds")
    for fault in FAULTS:
        p.add_argument(f"--{fault}", type=float, default=0.0, metavar="P",
                       help=f"MTurk emulator: {fault} each notification with probability P")
    p.add_argument("--out", default="rehearsal", help="output folder (default ./rehearsal)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pavilion.rehearsal.run import DEFAULT_SIM_REPLICATIONS, RehearsalRequest, rehearse
    from pavilion.rehearsal.scaling import DEFAULT_TIME_SCALE
    from pavilion.sim import METRICS
    from pavilion.sim.cli import parse_sets

    if args.scenario and args.preset:
        raise InputError("give a scenario file or --preset, not both")
    source: str | Path | None = args.scenario
    if args.preset:
        from pavilion.sim.presets import preset_path

        source = preset_path(args.preset)
    faults = {f: getattr(args, f) for f in FAULTS if getattr(args, f)}
    for name, value in faults.items():
        if not 0 <= value <= 1:
            raise InputError(f"--{name} must be a probability in [0, 1], got {value:g}")
    if faults and args.platform != "mturk":
        raise InputError("--duplicate/--reorder/--drop need --platform mturk")
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else list(METRICS)
    request = RehearsalRequest(
        scenario=source, overrides=parse_sets(args.sets), platform=args.platform,
        time_scale=DEFAULT_TIME_SCALE if args.time_scale is None else args.time_scale,
        replications=args.replications, seed=args.seed, out=Path(args.out), server_url=args.server,
        token=args.token, database_url=args.database_url, metrics=metrics, level=args.level,
        sim_replications=args.sim_replications or DEFAULT_SIM_REPLICATIONS,
        kill_server_every_s=args.kill_server_every, notification_faults=faults, quiet=args.quiet)
    outcome = rehearse(request)
    for v in outcome.verdicts:
        interval = f"[{v.low:.4g}, {v.high:.4g}]"
        print(f"{v.metric:28s} live {v.live_mean:10.4g}  sim {v.sim_mean:10.4g}  {interval:>22s}  {v.agree}")
    if outcome.disagreeing:
        print(f"pavilion rehearse: disagree: {', '.join(outcome.disagreeing)} (see {args.out}/report.md)")
    else:
        print(f"pavilion rehearse: every compared metric agrees (see {args.out}/report.md)")
    return outcome.exit_status
