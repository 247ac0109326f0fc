"""The `pavilion` command: parse arguments, call the library, print or write."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pavilion.errors import InputError

# Each module adds its subcommands with `register(subparsers)`; it must import nothing heavy at module level.
COMMAND_MODULES: tuple[str, ...] = (
    "pavilion.core.demo",
    "pavilion.emulators.cli",
    "pavilion.rehearsal.cli",
    "pavilion.runtime.cli",
    "pavilion.sim.cli",
    "pavilion.sim.calibration.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="pavilion", description="Real-time crowdsourcing: simulate and run.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input prints one line on stderr and returns 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"pavilion: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pavilion: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
