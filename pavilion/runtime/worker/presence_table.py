"""Presence every server process sees: one row per (process, stint) in the database, written in coalesced batches.

A process writes its own rows only: on a socket's connect and disconnect at once, and every `flush_s` (a third of
the grace) for every stint with an open socket there or a heartbeat since the last flush, in one statement. A row
with open sockets is thus never older than `flush_s` while its process lives; a process that dies stops
refreshing, and its rows' sign of life expires after the grace like anyone else's. The sweep of any process
judges a stint by the most recent `last_seen` over all rows (pavilion.runtime.worker.sweeper).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pavilion.runtime.db import Database
from pavilion.runtime.models import PresenceRow

LOOKUP_BATCH = 500  # keys per IN (...) when reading, well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Sighting:
    """What one process writes about one stint."""

    key: str
    project_id: int
    last_seen: datetime
    sockets: int


def new_process_id() -> str:
    """A fresh id per app: a restarted process never mistakes the rows of its previous life for its own."""
    return uuid.uuid4().hex


class PresenceTable:
    """This process's rows of the `presence` table, and everyone's latest sign of life per stint."""

    def __init__(self, db: Database, process_id: str) -> None:
        self.db = db
        self.process_id = process_id

    def write(self, sightings: Sequence[Sighting]) -> None:
        """Upsert this process's rows for these stints, in one statement."""
        if not sightings:
            return
        insert = sqlite_insert if self.db.sqlite else pg_insert
        rows = [
            {"process_id": self.process_id, "assignment_key": s.key, "project_id": s.project_id,
             "last_seen": s.last_seen, "sockets": s.sockets}
            for s in sightings
        ]
        statement = insert(PresenceRow)
        statement = statement.on_conflict_do_update(
            index_elements=["process_id", "assignment_key"],
            set_={"last_seen": statement.excluded.last_seen, "sockets": statement.excluded.sockets},
        )
        with self.db.session_scope(lock=True) as session:
            session.execute(statement, rows)

    def remove(self, keys: Iterable[str]) -> None:
        """Drop this process's rows of stints it no longer tracks (left, rejected, abandoned)."""
        keys = list(keys)
        if not keys:
            return
        with self.db.session_scope(lock=True) as session:
            for start in range(0, len(keys), LOOKUP_BATCH):
                session.execute(
                    delete(PresenceRow).where(
                        PresenceRow.process_id == self.process_id,
                        PresenceRow.assignment_key.in_(keys[start : start + LOOKUP_BATCH]),
                    )
                )

    def expire(self, before: datetime) -> None:
        """Drop every process's rows with no sign of life since `before` (dead processes leave theirs behind)."""
        with self.db.session_scope(lock=True) as session:
            session.execute(delete(PresenceRow).where(PresenceRow.last_seen < before))

    def latest(self, keys: Iterable[str]) -> dict[str, datetime]:
        """The most recent sign of life of each stint over all processes (stints no process wrote are absent)."""
        keys = list(keys)
        out: dict[str, datetime] = {}
        with self.db.session_scope() as session:
            for start in range(0, len(keys), LOOKUP_BATCH):
                rows = session.execute(
                    select(PresenceRow.assignment_key, func.max(PresenceRow.last_seen))
                    .where(PresenceRow.assignment_key.in_(keys[start : start + LOOKUP_BATCH]))
                    .group_by(PresenceRow.assignment_key)
                ).all()
                out.update({str(key): seen for key, seen in rows})
        return out
