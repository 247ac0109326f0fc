"""The Prolific bonus journal: which step each bonus reached, stored before each step, so none is paid twice.

Prolific's pay call is not idempotent and its answer can be lost. The journal lives in the runtime's database (the
host's `journal_engine()`) because the outbox can retry a payment after a crash with no memory of the call. Its
table is declared here, by the adapter that owns it; the runtime copies it into its models, so the migrations create
it and the schema check covers it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select, update

# A plain table read and written with Core statements, outside the service's sessions; `updated_at` stays Unix
# seconds, as first shipped.
bonus_journal = Table(
    "prolific_bonus_journal",
    MetaData(),
    Column("key", String(64), primary_key=True),  # the ledger's idempotency key
    Column("study_id", String(32), nullable=False),
    Column("submission_id", String(32), nullable=False),
    Column("participant_id", String(64), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("bulk_id", String(32), nullable=False, default=""),
    Column("fees_cents", Integer, nullable=False, default=0),
    Column("vat_cents", Integer, nullable=False, default=0),
    Column("step", String(16), nullable=False),  # new | set_up | pay_sent | paid
    Column("updated_at", Integer, nullable=False),
)


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


class BonusJournal:
    """Read and advance journal entries; every write commits before the caller makes the next Prolific call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
