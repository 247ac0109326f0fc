"""The `pavilion emulate PLATFORM` command: each emulator module adds its own subcommand."""

from __future__ import annotations

import argparse
import importlib

# Each module exposes `register(subparsers)` and imports nothing heavy at module level.
EMULATOR_MODULES: tuple[str, ...] = (
    "pavilion.emulators.mturk.cli",
    "pavilion.emulators.prolific.cli",
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `pavilion emulate` and one subcommand per emulator."""
    emulate = sub.add_parser("emulate", help="run a local emulator of a crowd platform's API")
    platforms = emulate.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    for name in EMULATOR_MODULES:
        importlib.import_module(name).register(platforms)
