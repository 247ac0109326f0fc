"""An API app on SQLite or a fresh PostgreSQL schema, two admins with a token each, and a whole-database snapshot."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pavilion.runtime import create_app
from pavilion.runtime.accounts import create_admin, create_token
from pavilion.runtime.context import get_runtime
from pavilion.runtime.db import Database
from pavilion.runtime.models import Base

PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[
        pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")]),
]
# Bookkeeping a request may touch without changing anything a researcher sees.
VOLATILE = {("api_tokens", "last_used_at")}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, scratch_database: Callable[[str, str], AbstractContextManager[str]]
) -> Iterator[str]:
    """SQLite in the test folder, or a fresh PostgreSQL schema (dropped afterwards)."""
    with scratch_database(request.param, "pavilion_api") as url:
        yield url


def api_app(tmp_path: Path, database_url: str) -> Flask:
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret", "ENV": "testing",
                       "DATABASE_URL": database_url, "MAX_CONTENT_LENGTH": 64 * 1024})


def token_for(app: Flask, username: str) -> str:
    runtime = get_runtime(app)
    create_admin(runtime.db, username, "correct horse", runtime.clock)
    return create_token(runtime.db, username, runtime.clock)


class Api:
    """The test client with one admin's bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["json"] = body
        return self.client.post(f"/api{path}", headers=self.headers, **kwargs)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api{path}", headers=self.headers)


def database_snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but VOLATILE columns), sorted: equal snapshots mean nothing changed."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.session_scope() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = session.execute(select(*columns)).all()
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out
