"""The event log as CSV, with the simulator's columns (time_s, worker, event, queue, detail)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.runtime.models import EventLog

COLUMNS = ("time_s", "worker", "event", "queue", "detail")


def event_rows(session: Session, project_id: int) -> list[tuple[float, str, str, str, str]]:
    """Every logged event and action of a project, in the order they happened."""
    rows = session.execute(
        select(EventLog.time_s, EventLog.worker, EventLog.event, EventLog.queue, EventLog.detail)
        .where(EventLog.project_id == project_id)
        .order_by(EventLog.id)
    ).all()
    return [(float(t), w, e, q, d) for t, w, e, q, d in rows]


def event_csv(session: Session, project_id: int) -> str:
    """CSV text with a header line; times in seconds since launch, to the millisecond."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for time_s, worker, event, queue, detail in event_rows(session, project_id):
        writer.writerow((f"{time_s:.3f}", worker, event, queue, detail))
    return buffer.getvalue()
