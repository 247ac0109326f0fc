"""`pavilion serve` options of the MTurk adapter, declared without importing boto3 (the command line stays fast)."""

from __future__ import annotations

import argparse


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """`--mturk-endpoint`, `--mturk-sqs-queue-url`, `--mturk-sqs-endpoint` (see MTurkPlatform.settings_from_args)."""
    group = parser.add_argument_group("MTurk")
    group.add_argument("--mturk-endpoint", help="sandbox, production, or the URL of an MTurk API (an emulator)")
    group.add_argument("--mturk-sqs-queue-url", help="SQS queue that receives MTurk notifications")
    group.add_argument("--mturk-sqs-endpoint", help="SQS endpoint for that queue (a local SQS)")
