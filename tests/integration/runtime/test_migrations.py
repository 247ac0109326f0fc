"""Alembic: `upgrade` from empty gives exactly the models' schema, on SQLite and PostgreSQL, and is repeatable."""

from __future__ import annotations

import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from pavilion.runtime import migrate
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.models import Base

from .conftest import PG_URL


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    # The fixture ran `upgrade`; a second run is a no-op.
    migrate.upgrade(database.engine)
    assert migrate.current(database.engine) == migrate.head(database.engine)
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")
def test_upgrade_takes_urls_with_escapes() -> None:
    # Options in the URL are percent-encoded; Alembic's ini parser once choked on the '%'.
    schema = f"pavilion_url_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
