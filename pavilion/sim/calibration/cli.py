"""`pavilion calibrate EVENTS.csv... [--scenario BASE.toml] [--out scenario.toml] [--report DIR]`."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from pavilion.errors import InputError


def _write_file(path: Path, text: str) -> None:
    """Write text next to `path`, then rename it into place (a reader never sees half a scenario)."""
    if path.is_dir():
        raise InputError(f"--out {path}: is a folder (give the scenario file's path)")
    path.resolve().parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def calibrate_command(args: argparse.Namespace) -> int:
    """Read and check every log, fit, then write; bad input raises InputError before anything is written."""
    from pavilion.sim.calibration.calibrate import calibrate
    from pavilion.sim.calibration.report import write_report
    from pavilion.sim.calibration.writer import header_lines, scenario_text
    from pavilion.sim.report import write_atomically
    from pavilion.sim.scenario import load_scenario

    base = load_scenario(args.scenario)
    label = f"the base scenario {args.scenario}" if args.scenario else "the embedded default scenario"
    out = Path(args.out)
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder (give the scenario file's path)")
    result = calibrate(args.events, base)
    text = scenario_text(result, label)
    if args.report:

        def fill(folder: Path) -> None:
            write_report(result, folder, label)

        write_atomically(Path(args.report), fill)
    _write_file(out, text)
    for line in header_lines(result, label):
        print(line)
    print(f"wrote {out}" + (f" and {args.report}/report.md" if args.report else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `pavilion calibrate` to the command line."""
    p = sub.add_parser("calibrate", help="fit the workload model from pilot event logs, write a scenario",
                       description="Fit arrivals, waiting patience, active durations, exit shares and the hire "
                                   "delay from one or more event logs (events.csv, live or simulated) and write a "
                                   "scenario that `pavilion simulate` loads. Policy, payment and run keys, and any "
                                   "quantity with fewer than 10 observations, come from --scenario.")
    p.add_argument("events", nargs="+", metavar="EVENTS.csv", help="event logs (one job each), pooled")
    p.add_argument("--scenario", metavar="BASE.toml", help="base scenario (default: the embedded default)")
    p.add_argument("--out", metavar="scenario.toml", default="scenario.toml",
                   help="where to write the calibrated scenario (default: scenario.toml)")
    p.add_argument("--report", metavar="DIR", help="also write DIR/report.md and DIR/plots/ (fits against "
                                                   "Kaplan-Meier, QQ plots)")
    p.set_defaults(func=calibrate_command)
