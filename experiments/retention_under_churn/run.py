"""Retention under churn: how availability and cost change as the share of returns and abandonments grows.

Usage: python experiments/retention_under_churn/run.py [--replications N] [--horizon S] [--rate R] [--jobs J]
                                                       [--out DIR]
For each churn share x, both queues' exits become submitted 1-x, returned 0.6x, abandoned 0.4x (the default
scenario's 3:2 split of returns to abandonments). At every x, pavilion (max_waiting 3) and on-demand run with an
instant hire (the default) and with a 120-s hire delay, and with abandoned slots held to their 30-min deadline (the
default, as the platforms do) or re-opened at once, all with the same seeds (common random numbers), on the
default scenario (48 arrivals per hour).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pavilion.sim import METRICS, load_scenario
from pavilion.sim.confidence import summarise
from pavilion.sim.plots import metrics_against_key, save
from pavilion.sim.report import summary_table
from pavilion.sim.sweep import sweep

CHURN = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
GRID: dict[str, list[object]] = {"policy.name": ["pavilion", "on-demand"], "workload.hire_delay_s.value": [0, 120],
                                 "workload.abandoned_slot_reopens": ["at_deadline", "at_once"]}
KEYS = ["churn", *GRID]
SHOWN = ["availability", "full_ratio", "mean_active", "replacement_latency_mean_s", "hires", "cost_usd",
         "cost_per_available_hour", "returned", "abandoned"]


def exits(share: float) -> dict[str, object]:
    """Both queues' departure mix at churn share x (rounded so the three shares sum to exactly 1)."""
    returned, abandoned = round(0.6 * share, 6), round(0.4 * share, 6)
    mix: dict[str, object] = {}
    for queue in ("waiting_exit", "active_exit"):
        mix |= {f"workload.{queue}.submitted": round(1.0 - returned - abandoned, 6),
                f"workload.{queue}.returned": returned, f"workload.{queue}.abandoned": abandoned}
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--horizon", type=float, default=28800.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=48.0, help="arrivals per hour")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()

    base = load_scenario(None, overrides={"run.horizon_s": args.horizon, "workload.arrivals.rate_per_hour": args.rate})
    frames = []
    for share in CHURN:
        result = sweep(base.with_overrides(exits(share)), GRID, replications=args.replications, seed=args.seed,
                       jobs=args.jobs)
        frames.append(result.runs.assign(churn=share))
    runs = pd.concat(frames, ignore_index=True)
    runs.insert(0, "churn", runs.pop("churn"))
    summary = summarise(runs, KEYS, list(METRICS))

    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    summary.to_csv(args.out / "summary.csv", index=False)
    save(metrics_against_key(summary, "churn", KEYS, SHOWN), args.out / "metrics_vs_churn.png")
    print(summary_table(summary, KEYS, ["availability", "full_ratio", "replacement_latency_mean_s", "cost_usd",
                                        "cost_per_available_hour"]).to_string(index=False))
    print(f"wrote {args.out}/: runs.csv summary.csv metrics_vs_churn.png")


if __name__ == "__main__":
    main()
