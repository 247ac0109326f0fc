"""Alembic: `upgrade` from empty gives exactly the models' schema, on SQLite and PostgreSQL, and is repeatable."""

from __future__ import annotations

import secrets

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, inspect, select, text

from pavilion.runtime import migrate
from pavilion.runtime.db import Database, make_engine
from pavilion.runtime.models import Base, prolific_bonus_journal

from .conftest import PG_URL


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    # The fixture ran `upgrade`; a second run is a no-op.
    migrate.upgrade(database.engine)
    assert migrate.current(database.engine) == migrate.head(database.engine)
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
    # Every table is the migrations' business, the Prolific journal included (it used to be created ad hoc).
    assert set(inspect(database.engine).get_table_names()) - {"alembic_version"} == set(Base.metadata.tables)
    assert "prolific_bonus_journal" in Base.metadata.tables


def _journal_as_first_shipped() -> Table:
    """The journal as the Prolific adapter created it on first use, before revision 0002 (kept frozen here)."""
    return Table(
        "prolific_bonus_journal",
        MetaData(),
        Column("key", String(64), primary_key=True),
        Column("study_id", String(32), nullable=False),
        Column("submission_id", String(32), nullable=False),
        Column("participant_id", String(64), nullable=False),
        Column("amount_cents", Integer, nullable=False),
        Column("bulk_id", String(32), nullable=False, default=""),
        Column("fees_cents", Integer, nullable=False, default=0),
        Column("vat_cents", Integer, nullable=False, default=0),
        Column("step", String(16), nullable=False),
        Column("updated_at", Integer, nullable=False),
    )


ENTRY = {
    "key": "pay-a1-waiting", "study_id": "s1", "submission_id": "sub1", "participant_id": "p1", "amount_cents": 42,
    "bulk_id": "b1", "fees_cents": 14, "vat_cents": 0, "step": "pay_sent", "updated_at": 1_780_000_000,
}


def test_a_journal_made_before_the_migrations_knew_it_is_kept(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0001")
    old = _journal_as_first_shipped()
    with empty_engine.begin() as conn:
        old.create(conn)
        conn.execute(old.insert().values(**ENTRY))
    migrate.upgrade(empty_engine)
    assert migrate.current(empty_engine) == migrate.head(empty_engine)
    with empty_engine.connect() as conn:
        assert [dict(row) for row in conn.execute(select(prolific_bonus_journal)).mappings()] == [ENTRY]
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_the_journal_revision_goes_down_and_up_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    config = migrate.alembic_config(empty_engine)
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert migrate.current(empty_engine) == "0001"
    assert not inspect(empty_engine).has_table("prolific_bonus_journal")
    migrate.upgrade(empty_engine)
    assert inspect(empty_engine).has_table("prolific_bonus_journal")


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
