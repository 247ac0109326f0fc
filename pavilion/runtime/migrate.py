"""Alembic, driven from code: `upgrade(engine)` brings a SQLite or PostgreSQL database to the newest schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = "pavilion.runtime:migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for our script directory (no alembic.ini needed)."""
    # No sqlalchemy.url: env.py runs on the connection we hand it (and a URL with '%' would break the ini parser).
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision` in one transaction."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current(engine: Engine) -> str | None:
    """The database's revision (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(engine: Engine) -> str | None:
    """The newest revision shipped with this version of Pavilion."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
