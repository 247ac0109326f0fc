"""Who runs a periodic job: on PostgreSQL one process at a time (an advisory lock per job name), else everyone.

Several server processes share one database, and each runs the same background loop. A job such as the outbox,
the presence sweep or reconciliation must not run in two of them at once, so before each due run a process asks
`claim(name)`: on PostgreSQL it tries `pg_try_advisory_lock` on a connection it keeps for this alone (a session
lock, held until that connection closes: a process that dies, even by SIGKILL, lets go when its socket closes).
The others keep trying at every interval and so take the job over. A process that has just taken a job over runs
it one interval later, never at once: the previous owner's last run was before it died, so two runs of one job
are always at least one interval apart, whichever processes made them. On SQLite (one process) everyone owns all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Any, Literal

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

Claim = Literal["owner", "new", "other"]  # held already / just taken over (wait one interval) / someone else's
NAMESPACE = b"pavilion-periodic-job:"


def lock_key(name: str, schema: str = "") -> int:
    """A stable signed 64-bit advisory-lock key per job name and schema (advisory locks span a whole database)."""
    digest = hashlib.sha256(NAMESPACE + schema.encode() + b"/" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Everyone:
    """One process: every job is always this process's (SQLite, or no database shared)."""

    def claim(self, name: str) -> Claim:
        return "owner"

    def close(self) -> None:
        return None


class AdvisoryLocks:
    """Jobs owned through PostgreSQL session advisory locks on one dedicated autocommit connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None
        self._owned: set[str] = set()
        self._schema = ""

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self.engine.execution_options(isolation_level="AUTOCOMMIT").connect()
            conn.detach()  # its own, never back to the pool: closing it must end the session and its locks
            self._conn = conn
            self._schema = str(self._conn.execute(text("SELECT current_schema()")).scalar() or "")
        return self._conn

    def _key(self, name: str) -> int:
        return lock_key(name, self._schema)

    def claim(self, name: str) -> Claim:
        """Try the job's lock; a held lock is re-checked on the live connection, so a lost one is noticed."""
        try:
            conn = self._connection()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key(name)}).scalar())
        except Exception:  # the connection broke: its locks are gone with it; start again next interval
            log.warning("job lock connection lost; periodic jobs are re-claimed at their next interval")
            self._reset()
            return "other"
        if not got:
            self._owned.discard(name)
            return "other"
        if name in self._owned:
            # Session locks stack: undo this extra level so one unlock-by-disconnect level stays.
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key(name)})
            return "owner"
        self._owned.add(name)
        log.info("this process (pid %d) now runs the periodic job %s", os.getpid(), name)
        return "new"

    def _reset(self) -> None:
        self._owned.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
            except Exception:  # noqa: BLE001 - already broken
                log.debug("closing a broken job lock connection failed", exc_info=True)

    def close(self) -> None:
        """Let go of every job (the connection closes; the others take over at their next try)."""
        self._owned.clear()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def ownership(engine: Engine) -> Everyone | AdvisoryLocks:
    """Advisory locks on PostgreSQL, everyone elsewhere."""
    return AdvisoryLocks(engine) if engine.dialect.name == "postgresql" else Everyone()


class JobLog:
    """Appends `time job pid` per periodic job run to a file (PAVILION_JOB_LOG), so ownership can be audited."""

    def __init__(self, path: str) -> None:
        self.path = path

    def ran(self, name: str, started: float) -> None:
        if not self.path:
            return
        line = f"{started:.6f} {name} {os.getpid()}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one small O_APPEND write: lines from several processes never interleave
        finally:
            os.close(fd)


def wall_clock() -> float:
    return time.time()
