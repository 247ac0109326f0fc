"""Fixtures: a migrated database (SQLite always; PostgreSQL when PAVILION_TEST_DATABASE_URL is set), a service."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pavilion.runtime import migrate
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.notify import MemoryNotifier
from pavilion.runtime.service import PolicyService

PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")


class ManualClock:
    """A server clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _postgres_db() -> Iterator[Database]:
    with _postgres_engine() as engine:
        migrate.upgrade(engine)
        yield Database(engine)


@contextmanager
def _postgres_engine() -> Iterator[Engine]:
    """A fresh schema per test, dropped afterwards, so reruns and other users of the database never interfere."""
    schema = f"pavilion_test_{secrets.token_hex(6)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres":
        yield from _postgres_db()
        return
    db = Database(make_engine(f"sqlite:///{tmp_path / 'pavilion.sqlite'}"))
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database, for tests that migrate step by step."""
    if request.param == "postgres":
        with _postgres_engine() as engine:
            yield engine
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'pavilion.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def service(database: Database, notifier: MemoryNotifier, clock: ManualClock) -> PolicyService:
    return PolicyService(database, notifier, clock, {"PUBLIC_URL": "http://lab.test"})
