"""Pavilion against on-demand: what does a paid waiting queue buy a live job, and what does it cost?

Usage: python experiments/pavilion_vs_on_demand/run.py [--jobs J] [--out DIR] [extra `pavilion simulate` flags]
This is `pavilion simulate` on the default scenario, sweeping the crowd's arrival rate (12, 24 and 48 workers per
hour), both policies and max_waiting from 1 to 6, with 40 replications per point; it writes the study folder
(runs.csv, summary.csv, report.md, plots/) to experiments/pavilion_vs_on_demand/results/ by default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pavilion.cli import main as pavilion

HERE = Path(__file__).resolve().parent
SWEEPS = ["workload.arrivals.rate_per_hour=12,24,48", "policy.name=pavilion,on-demand", "policy.max_waiting=1,2,3,4,6"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--out", default=str(HERE / "results"))
    args, extra = parser.parse_known_args()
    sweeps = [flag for sweep in SWEEPS for flag in ("--sweep", sweep)]
    return pavilion(["simulate", *sweeps, "--replications", "40", "--jobs", args.jobs, "--out", args.out, *extra])


if __name__ == "__main__":
    sys.exit(main())
