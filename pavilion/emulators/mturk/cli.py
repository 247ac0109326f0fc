"""`pavilion emulate mturk`: serve the MTurk Requester API emulator on a local port."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from pavilion.errors import InputError


def register(platforms: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = platforms.add_parser("mturk", help="MTurk Requester API (2017-01-17) on http://HOST:PORT")
    parser.add_argument("--port", type=int, default=8443, help="port to listen on (default 8443)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--balance", default="10000.00", help="starting account balance in USD")
    parser.add_argument("--seed", type=int, default=0, help="seed for ids and notification chaos")
    parser.add_argument("--sqs-endpoint", default=None,
                        help="SQS endpoint for notifications (default: the host of each queue URL)")
    parser.add_argument("--public-url", default=None, help="address workers' browsers use to reach the emulator")
    for name, done in (("duplicate", "duplicated"), ("reorder", "reordered"), ("drop", "dropped")):
        parser.add_argument(f"--{name}", type=float, default=0.0, help=f"probability a notification is {done}")
    parser.add_argument("--batch", type=int, default=1, help="most events per notification message")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pavilion.emulators.mturk.emulator import Emulator
    from pavilion.emulators.mturk.notifications import Chaos
    from pavilion.emulators.mturk.server import serve

    if not 0 < args.port < 65536:
        raise InputError(f"--port must be between 1 and 65535, got {args.port}")
    try:
        balance = Decimal(args.balance)
    except InvalidOperation:
        raise InputError(f"--balance must be an amount in USD, got {args.balance!r}") from None
    try:
        chaos = Chaos(duplicate=args.duplicate, reorder=args.reorder, drop=args.drop, batch=args.batch).validate()
    except ValueError as exc:
        raise InputError(str(exc).replace("chaos.", "--")) from None
    emulator = Emulator(seed=args.seed, balance=balance, chaos=chaos, sqs_endpoint_url=args.sqs_endpoint)
    print(f"MTurk emulator on http://{args.host}:{args.port}  (boto3: endpoint_url='http://{args.host}:{args.port}')",
          flush=True)
    try:
        serve(args.port, args.host, emulator, public_url=args.public_url)
    except OSError as exc:
        raise InputError(f"--port {args.port}: {exc.strerror}") from None
    return 0
