"""Time `pavilion --help` against the floor of starting Python at all (`python -c pass`), in the same run.

Usage: python benchmarks/cli_startup.py [--repeats N]
Each command runs N times in a fresh interpreter; the median wall time of each and their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_wall_s(command: list[str], repeats: int) -> float:
    """Median wall time of `command` over `repeats` fresh runs (output discarded)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs of each command (default 9)")
    args = parser.parse_args()
    floor = median_wall_s([sys.executable, "-c", "pass"], args.repeats)
    helped = median_wall_s([sys.executable, "-m", "pavilion.cli", "--help"], args.repeats)
    print(f"cli_startup: pavilion --help {helped:.3f} s, python -c pass {floor:.3f} s (floor), "
          f"ratio {helped / floor:.1f}x, above floor {helped - floor:.3f} s (median of {args.repeats})")


if __name__ == "__main__":
    main()
