"""Alembic: `upgrade` from empty gives exactly the models' schema, on SQLite and PostgreSQL, and is repeatable."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pavilion.runtime import migrate
from pavilion.runtime.db import Database
from pavilion.runtime.models import Base


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    # The fixture ran `upgrade`; a second run is a no-op.
    migrate.upgrade(database.engine)
    assert migrate.current(database.engine) == migrate.head(database.engine)
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
