"""Periodic jobs run in one process at a time: PostgreSQL advisory locks per job name, taken over when freed."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from pavilion.runtime.db import make_engine
from pavilion.runtime.jobs import AdvisoryLocks, Everyone, lock_key, ownership

PG_URL = os.environ.get("PAVILION_TEST_DATABASE_URL", "")
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PAVILION_TEST_DATABASE_URL is not set")]


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A fresh schema (advisory-lock keys include it, so parallel runs never contend)."""
    schema = f"pavilion_jobs_{secrets.token_hex(5)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _engine(schema: str) -> Engine:
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})


def test_one_owner_per_job_and_a_takeover_when_it_lets_go(schema_url: str) -> None:
    first_engine, second_engine = _engine(schema_url), _engine(schema_url)
    first, second = AdvisoryLocks(first_engine), AdvisoryLocks(second_engine)
    try:
        assert first.claim("outbox") == "new" and second.claim("outbox") == "other"
        assert second.claim("presence") == "new" and first.claim("presence") == "other"  # per name
        for _ in range(5):  # held locks are re-checked without stacking
            assert first.claim("outbox") == "owner" and second.claim("outbox") == "other"
        first.close()  # as a process that dies: its connection closes
        assert second.claim("outbox") == "new" and second.claim("outbox") == "owner"
        reopened = AdvisoryLocks(first_engine)
        assert reopened.claim("outbox") == "other"
        second.close()
        assert reopened.claim("outbox") == "new"
        reopened.close()
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_a_killed_backend_frees_its_jobs(schema_url: str) -> None:
    """The owner's connection dies (as when its process is SIGKILLed): the job is someone else's next time."""
    engine, other_engine = _engine(schema_url), _engine(schema_url)
    owner, other = AdvisoryLocks(engine), AdvisoryLocks(other_engine)
    try:
        assert owner.claim("reconcile") == "new"
        pid = owner._connection().execute(text("SELECT pg_backend_pid()")).scalar()
        killer = make_engine(PG_URL)
        with killer.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        killer.dispose()
        assert other.claim("reconcile") == "new"
        assert owner.claim("reconcile") == "other"  # the broken connection is noticed, then the lock is taken
        assert owner.claim("reconcile") == "other"
    finally:
        owner.close()
        other.close()
        engine.dispose()
        other_engine.dispose()


def test_keys_differ_by_schema_and_sqlite_needs_no_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert lock_key("outbox", "a") != lock_key("outbox", "b") != lock_key("presence", "b")
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    assert isinstance(ownership(engine), Everyone) and ownership(engine).claim("outbox") == "owner"
