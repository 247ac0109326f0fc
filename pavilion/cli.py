"""The `pavilion` command: parse arguments, call the library, print or write."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pavilion.errors import InputError

# Each module adds its subcommands with `register(subparsers)`; it must import nothing heavy at module level,
# and its package neither (tests/unit/test_cli_startup.py checks that building the parser loads no heavy library).
COMMAND_MODULES: tuple[str, ...] = (
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
    demo = sub.add_parser("demo", help="print a short trace of the pavilion policy")
    demo.set_defaults(func=_demo)  # here, not in pavilion.core: importing that package builds every policy
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from pavilion.core.demo import trace

    print("\n".join(trace()))
    return 0


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
