"""Fixtures every test folder shares: a scratch database on SQLite or on a fresh PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")

ScratchDatabase = Callable[[str, str], AbstractContextManager[str]]


@contextmanager
def _scratch(backend: str, prefix: str, tmp_path: Path) -> Iterator[str]:
    """SQLite in the test folder, or a fresh PostgreSQL schema (dropped afterwards): its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'pavilion.sqlite'}"
        return
    from pavilion.runtime.db import make_engine

    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def scratch_database(tmp_path: Path) -> ScratchDatabase:
    """`with scratch_database(backend, prefix) as url:` a database for one test ("sqlite" or "postgres")."""
    return lambda backend, prefix: _scratch(backend, prefix, tmp_path)
