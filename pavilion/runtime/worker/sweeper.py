"""The abandon sweep: a stint with no socket and no heartbeat for the grace, on any process, is one `abandoned`
departure; and the flush that writes this process's sightings for the others' sweeps."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from pavilion.runtime.errors import ServiceError
from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.worker.side import WorkerSide

log = logging.getLogger(__name__)


def present_stints(side: WorkerSide) -> list[tuple[int, str]]:
    """(project id, assignment key) of every stint the database holds as present in a launched project."""
    with side.runtime.db.session_scope() as session:
        rows = session.execute(
            select(Assignment.project_id, Assignment.key)
            .join(Project, Project.id == Assignment.project_id)
            .where(Assignment.left_at.is_(None), Project.status != "draft")
        ).all()
    return [(int(project_id), str(key)) for project_id, key in rows]


def sweep(side: WorkerSide) -> list[str]:
    """One pass: sync presence with the database, then report each stale stint to the service as abandoned.

    The service de-duplicates departures, so a platform notice that got there first makes this a no-op.
    Returns the keys this pass found stale."""
    mark = side.presence.mark()
    side.presence.adopt(present_stints(side), mark)
    candidates = side.presence.stale_keys(side.grace_s)
    elsewhere: dict[str, datetime] = {}
    if candidates:
        # Stale here, but the socket may live on another process: judge by the latest sign of life anywhere.
        elsewhere = side.table.latest(candidates)
        side.presence.observe(elsewhere)
    # Only stints just checked against the table: one that crossed the grace while the table was read (a slow
    # read under load) has not been asked about yet and waits for the next pass.
    stale = side.presence.take_stale(side.grace_s, among=candidates)
    now = side.runtime.clock()
    for project_id, key in stale:
        seen = elsewhere.get(key)
        log.info("abandoning %s of project %s: no socket here, last sign of life in the presence table %s", key,
                 project_id, f"{(now - seen).total_seconds():.1f} s ago" if seen is not None else "none")
        try:
            departed = side.runtime.service.depart(project_id, key, "abandoned", source="presence")
        except ServiceError as exc:
            log.warning("abandon of %s in project %s refused: %s", key, project_id, exc)
            continue
        if departed:
            # The page may have come back between the staleness check and the departure, here or on another
            # process: its place is gone, so say so rather than leave it waiting for messages that never come.
            side.runtime.notifier.to_worker(key, "rejected", {"reason": "abandoned"})
            side.presence.forget(key)
    return [key for _, key in stale]


def flush(side: WorkerSide, keys: set[str] | None = None) -> None:
    """Write this process's sightings (of `keys`, or all due) to the presence table; drop rows long expired."""
    rows, gone = side.presence.sightings(keys)
    try:
        side.table.write(rows)
        side.table.remove(gone)
        if keys is None:
            side.table.expire(side.runtime.clock() - timedelta(seconds=4 * side.grace_s))
    except Exception:
        side.presence.unsent(rows, gone)
        raise
