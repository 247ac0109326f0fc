"""Which database is opened: PAVILION_DATABASE_URL, else DATABASE_URL; psycopg URLs; production never makes folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavilion.errors import InputError
from pavilion.runtime.config import load_config, patched_async_mode
from pavilion.runtime.database_url import normalise, redacted


@pytest.mark.parametrize(
    ("given", "opened"),
    [
        ("postgres://u:p@db.example:5432/x", "postgresql+psycopg://u:p@db.example:5432/x"),
        ("postgresql://u@db/x?sslmode=require", "postgresql+psycopg://u@db/x?sslmode=require"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_postgres_urls_use_psycopg(given: str, opened: str) -> None:
    assert normalise(given) == opened


def test_redacted_hides_only_the_password() -> None:
    assert redacted("postgresql+psycopg://app:s3cret@db.example:6543/live") == (
        "postgresql+psycopg://app:***@db.example:6543/live"
    )
    assert redacted("postgresql+psycopg://app@db/live") == "postgresql+psycopg://app@db/live"
    assert "s3cret" not in redacted("postgres://:s3cret@db/live")


def test_database_url_is_the_fallback(tmp_path: Path) -> None:
    base = {"PAVILION_INSTANCE_PATH": str(tmp_path), "PAVILION_SECRET_KEY": "s"}
    config = load_config(environ={**base, "DATABASE_URL": "postgres://u@db/platform"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@db/platform"
    both = {**base, "DATABASE_URL": "postgres://u@db/platform", "PAVILION_DATABASE_URL": "postgresql://u@db/ours"}
    assert load_config(environ=both)["DATABASE_URL"] == "postgresql+psycopg://u@db/ours"


def test_production_refuses_sqlite_in_a_missing_folder(tmp_path: Path) -> None:
    env = {"PAVILION_ENV": "production", "PAVILION_SECRET_KEY": "k", "PAVILION_INSTANCE_PATH": str(tmp_path / "i"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere' / 'p.sqlite'}"}
    with pytest.raises(InputError, match=r"^DATABASE_URL: the SQLite folder .*nowhere does not exist"):
        load_config(environ=env)
    del env["DATABASE_URL"]  # the default file, in an instance folder production does not create
    with pytest.raises(InputError, match=r"^PAVILION_DATABASE_URL \(unset\): the SQLite folder"):
        load_config(environ=env)
    (tmp_path / "i").mkdir()
    assert load_config(environ=env)["DATABASE_URL"].endswith("/i/pavilion.sqlite")


def test_async_mode_follows_the_process(tmp_path: Path) -> None:
    env = {"PAVILION_INSTANCE_PATH": str(tmp_path), "PAVILION_SECRET_KEY": "s"}
    assert patched_async_mode() == "threading"  # the test process is not monkey-patched
    config = load_config(environ=env)
    assert config["ASYNC_MODE"] == "threading" and config["BACKGROUND_TASKS"] is False
    config = load_config(environ={**env, "PAVILION_ASYNC_MODE": "gevent"})
    assert config["BACKGROUND_TASKS"] is True
