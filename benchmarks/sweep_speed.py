"""Time a 200-run sweep of the default scenario with --jobs 1 (the floor) and --jobs 2, in the same process.

Usage: python benchmarks/sweep_speed.py [--runs N] [--jobs J] [--repeat K] [--seed S]
The sweep is 10 values of policy.max_waiting x N/10 replications of the default scenario (8 simulated hours each),
timed end to end (plan, runs, summary) through `pavilion.sim.sweep(...)`. Both settings are warmed up once, then
timed K times each, interleaved. The best time of each (as timeit reports: the least disturbed by other processes)
and the median are printed, with both ratios. Both settings must give identical frames (checked).
Target: jobs=2 at least 1.7x faster than jobs=1 on two otherwise idle cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pavilion.sim import load_scenario
from pavilion.sim.sweep import SweepResult, sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(None)
    grid = {"policy.max_waiting": list(range(1, 11))}
    replications = max(1, args.runs // 10)

    def timed(jobs: int) -> tuple[float, SweepResult]:
        t0 = time.perf_counter()
        result = sweep(scenario, grid, replications=replications, seed=args.seed, jobs=jobs)
        return time.perf_counter() - t0, result

    for jobs in (1, args.jobs):  # warm-up: imports, caches, the first fork
        sweep(scenario, {"policy.max_waiting": [1, 2]}, replications=2, seed=args.seed, jobs=jobs)
    floor, parallel = [], []
    for _ in range(args.repeat):
        t1, serial_result = timed(1)
        t2, parallel_result = timed(args.jobs)
        floor.append(t1)
        parallel.append(t2)
        same = serial_result.runs.equals(parallel_result.runs) and serial_result.summary.equals(parallel_result.summary)
        if not same:
            raise SystemExit(f"jobs=1 and jobs={args.jobs} gave different results")
    runs = replications * len(grid["policy.max_waiting"])
    for label, times in (("jobs=1 (floor)", floor), (f"jobs={args.jobs}", parallel)):
        print(f"sweep of {runs} runs, {label:14}: best {min(times):.3f} s ({runs / min(times):.0f} runs/s), "
              f"median {statistics.median(times):.3f} s of {args.repeat}")
    best, median = min(floor) / min(parallel), statistics.median(floor) / statistics.median(parallel)
    print(f"speedup jobs={args.jobs} / jobs=1: {best:.2f}x best, {median:.2f}x median "
          f"(target >= 1.7x on 2 idle cores); identical results: True")

if __name__ == "__main__":
    main()
