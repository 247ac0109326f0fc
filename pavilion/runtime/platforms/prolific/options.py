"""`pavilion serve` options of the Prolific adapter, declared without importing httpx or SQLAlchemy."""

from __future__ import annotations

import argparse


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """`pavilion serve --prolific-api-url URL` (same as PAVILION_PROLIFIC_API_URL)."""
    parser.add_argument("--prolific-api-url", help="Prolific API base URL (an emulator's, for rehearsals)")
