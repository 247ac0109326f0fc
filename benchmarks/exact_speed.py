"""Time `pavilion simulate --exact` against a simulation of equal precision (the floor), in the same process.

Usage: python benchmarks/exact_speed.py [--half-width H] [--repeat K] [--seed S]
The scenario is the default made Markovian (no assignment time limit, slots re-opening at once, abandonment seen
after an exponential 30 s), with an exponential 60-s hire delay: the chain the exact solver builds has 660 states.
The exact side builds the chain by stepping the policy and solves it (best of K). The floor simulates the same
scenario with `--precision availability=H` semantics: replications in batches until the 95% CI half-width of
availability is below H (default 0.001; the exact answer has none), timed once. Both availabilities are printed;
the exact one must lie within the simulation's CI (checked).
"""

from __future__ import annotations

import argparse
import time

from pavilion.sim import exact, load_scenario, sweep
from pavilion.sim.precision import Precision

MARKOVIAN = {"workload.assignment_duration_s": float("inf"), "workload.abandoned_slot_reopens": "at_once",
             "workload.abandon_detection_s": {"dist": "exponential", "mean": 30},
             "workload.hire_delay_s": {"dist": "exponential", "mean": 60},
             "run.warmup_s": 4 * 3600, "run.horizon_s": 4 * 3600 + 28800}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half-width", type=float, default=0.001)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(None, overrides=MARKOVIAN)
    exact(scenario)  # warm-up: imports
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = exact(scenario)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    sim = sweep(scenario, replications=10, seed=args.seed,
                precision=Precision("availability", args.half_width, max_replications=2000))
    floor = time.perf_counter() - t0
    row = sim.summary.iloc[0]
    mean, half, runs = float(row["availability_mean"]), float(row["availability_ci95"]), int(row["runs"])
    value = result.metrics["availability"]
    print(f"exact ({result.states} states): best {min(times) * 1000:.1f} ms of {args.repeat}, "
          f"availability {value:.4f}")
    print(f"simulation to ±{args.half_width:g} (floor): {floor:.2f} s, {runs} runs of 8 h after a 4-h warmup, "
          f"availability {mean:.4f} ± {half:.4f}")
    inside = abs(mean - value) <= half
    print(f"exact is {floor / min(times):.0f}x faster than the simulation of equal precision; "
          f"exact within the simulation's CI: {inside}")


if __name__ == "__main__":
    main()
