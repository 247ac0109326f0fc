"""`pavilion emulate prolific --port P`: a local Prolific for demos and rehearsals."""

from __future__ import annotations

import argparse
import os
import secrets

from pavilion.errors import InputError

TOKEN_ENV = "PAVILION_PROLIFIC_EMULATOR_TOKEN"


def register(platforms: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `prolific` emulator subcommand."""
    cmd = platforms.add_parser("prolific", help="emulate Prolific's researcher API (studies, webhooks, bonuses)")
    cmd.add_argument("--port", type=int, default=8790, help="port to listen on (default 8790)")
    cmd.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    cmd.add_argument("--token", help=f"API token to accept (default: ${TOKEN_ENV}, else a new random one, printed)")
    cmd.add_argument("--seed", type=int, default=0, help="seed for generated ids (default 0)")
    cmd.add_argument("--manual-clock", action="store_true", help="time moves only via POST /_emulator/clock/advance")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pavilion.emulators.prolific.clock import ManualClock, SystemClock
    from pavilion.emulators.prolific.emulator import ProlificEmulator
    from pavilion.emulators.prolific.server import serve

    if not 0 < args.port < 65536:
        raise InputError(f"--port must be between 1 and 65535, not {args.port}")
    token = args.token or os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    clock = ManualClock() if args.manual_clock else SystemClock()
    emulator = ProlificEmulator(token=token, clock=clock, seed=args.seed)
    print(f"Prolific emulator on http://{args.host}:{args.port}/api/v1/  token: {token}", flush=True)
    print(f"workspace: {emulator.state.workspace_id}", flush=True)
    serve(args.port, emulator, host=args.host)
    return 0
