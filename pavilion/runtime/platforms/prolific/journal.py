"""The Prolific bonus journal: which step each bonus reached, stored before each step, so none is paid twice.

Prolific's pay call is not idempotent and its answer can be lost. The journal lives in the runtime's database (its
own table, created by the migrations) because the outbox can retry a payment after a crash with no memory of the call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from pavilion.runtime.db import make_engine
from pavilion.runtime.models import prolific_bonus_journal as bonus_journal

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


@dataclass(frozen=True)
class Entry:
    key: str
    study_id: str
    submission_id: str
    participant_id: str
    amount_cents: int
    bulk_id: str
    fees_cents: int
    vat_cents: int
    step: str


def _engine(url: str) -> Engine:
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            _engines[url] = engine
        return engine


class BonusJournal:
    """Read and advance journal entries; every write commits before the caller makes the next Prolific call."""

    def __init__(self, database_url: str) -> None:
        self.engine = _engine(database_url)

    def get(self, key: str) -> Entry | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(bonus_journal).where(bonus_journal.c.key == key)).mappings().one_or_none()
        return None if row is None else Entry(**{k: row[k] for k in Entry.__dataclass_fields__})

    def open(self, key: str, study_id: str, submission_id: str, participant_id: str, amount_cents: int) -> Entry:
        """The entry for `key`, created at step `new` when missing."""
        found = self.get(key)
        if found is not None:
            return found
        with self.engine.begin() as conn:
            conn.execute(
                bonus_journal.insert().values(
                    key=key,
                    study_id=study_id,
                    submission_id=submission_id,
                    participant_id=participant_id,
                    amount_cents=amount_cents,
                    bulk_id="",
                    fees_cents=0,
                    vat_cents=0,
                    step="new",
                    updated_at=int(time.time()),
                )
            )
        entry = self.get(key)
        assert entry is not None
        return entry

    def advance(self, key: str, step: str, **values: str | int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(bonus_journal)
                .where(bonus_journal.c.key == key)
                .values(step=step, updated_at=int(time.time()), **values)
            )

    def sent_for(self, submission_id: str) -> list[Entry]:
        """Entries of a submission whose pay step went out (paid or awaiting confirmation)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(bonus_journal).where(
                    bonus_journal.c.submission_id == submission_id, bonus_journal.c.step.in_(("pay_sent", "paid"))
                )
            ).mappings()
            return [Entry(**{k: r[k] for k in Entry.__dataclass_fields__}) for r in rows]
