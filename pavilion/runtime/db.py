"""Engine and session helpers: SQLite pragmas, a write-locking transaction, `session_scope()`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Execution option that makes SQLite open the transaction with BEGIN IMMEDIATE (the database write lock).
IMMEDIATE = "pavilion_immediate"


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite (which has no row locks)."""
    return engine.dialect.name == "sqlite"


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy then emits BEGIN itself, so we choose IMMEDIATE when asked.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs."""
    engine = create_engine(url, echo=echo, future=True, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if is_sqlite(engine):
        _sqlite_hooks(engine)
    return engine


class Database:
    """The engine and two session factories: plain reads, and writes that lock (SQLite: BEGIN IMMEDIATE)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.locking_sessions = sessionmaker(engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False)
        # SQLite has one writer at a time anyway; queueing writers in-process (a green lock under eventlet) keeps
        # them from spinning in SQLite's busy handler, which would block the whole event loop.
        self._writer = threading.RLock() if is_sqlite(engine) else None

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def session_scope(self, lock: bool = False) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any exception. `lock` takes SQLite's write lock."""
        factory = self.locking_sessions if lock else self.sessions
        with ExitStack() as stack:
            if lock and self._writer is not None:
                stack.enter_context(self._writer)
            session = stack.enter_context(factory())
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()
