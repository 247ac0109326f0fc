"""CSV text of a project's assignments (the event log's CSV is pavilion.runtime.eventlog, the simulator's columns)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "worker",
    "platform_worker_id",
    "platform_assignment_id",
    "joined_s",
    "promoted_s",
    "left_s",
    "queue",
    "how",
)


def seconds_since(moment: datetime | None, origin: datetime | None) -> str:
    """Seconds from `origin` to `moment` with millisecond precision, or '' when either is unknown."""
    if moment is None or origin is None:
        return ""
    return f"{(moment - origin).total_seconds():.3f}"


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Render rows (one value per column) as CSV text with a header line; None becomes ''."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} values for {len(columns)} columns: {row!r}")
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()
