"""SQLAlchemy models of the live runtime: admins, projects, workers, assignments, event log, outbox, ledger, journal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pavilion.runtime.platforms.prolific.journal import bonus_journal


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which drops the zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the server clock (aware UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Admin(Base):
    """A researcher who may log in and hold API tokens; the password is stored hashed (werkzeug)."""

    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]

    # Flask-Login's user protocol, without importing it here.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token for the JSON API; only its sha256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8), default="", server_default="")  # shown to tell tokens apart
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    admin: Mapped[Admin] = relationship()


class AdminLogin(Base):
    """One admin login (browser session): its cookie is honoured only while this row is not revoked."""

    __tablename__ = "admin_logins"
    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    login_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the id kept in the cookie
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Project(Base):
    """One live job: its policy and parameters, its platform, task, pay rates, and the policy state."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    policy_name: Mapped[str] = mapped_column(String(40))
    policy_params: Mapped[dict[str, Any]]  # min_active, max_active, min_waiting, max_waiting
    platform_name: Mapped[str] = mapped_column(String(40))
    platform_settings: Mapped[dict[str, Any]]  # non-secret settings only; credentials come from the environment
    platform_state: Mapped[dict[str, Any]]  # what the adapter keeps between calls (HIT ids, open places, ...)
    task: Mapped[dict[str, Any]]  # title, description, url, ...
    pay: Mapped[dict[str, Any]]  # decimal strings: reward, waiting_wage_per_hour, active_wage_per_hour
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | live | expired | stopped
    state: Mapped[dict[str, Any]]  # pavilion.core JobState, serialised by pavilion.runtime.state
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every policy step
    created_at: Mapped[datetime]
    launched_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]


class Worker(Base):
    """A person as the platform names them."""

    __tablename__ = "workers"
    __table_args__ = (UniqueConstraint("platform_name", "platform_worker_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_name: Mapped[str] = mapped_column(String(40))
    platform_worker_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Assignment(Base):
    """One stint of one worker in one project; `key` is the worker id the policy sees."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_project_present", "project_id", "left_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    platform_assignment_id: Mapped[str] = mapped_column(String(128), default="")
    platform_extra: Mapped[dict[str, Any]]  # e.g. hitId, turkSubmitTo, SESSION_ID
    # waiting | active: the queue held, or once left (left_at set) the queue left from; '' if never in one
    queue: Mapped[str] = mapped_column(String(16), default="")
    joined_at: Mapped[datetime]
    promoted_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    how_left: Mapped[str | None] = mapped_column(String(16))  # submitted | returned | abandoned | rejected
    left_source: Mapped[str | None] = mapped_column(String(16))  # socket | platform | reconcile | admin | policy
    detail: Mapped[str] = mapped_column(String(200), default="")  # e.g. the reject reason
    worker: Mapped[Worker] = relationship()


class EventLog(Base):
    """Append-only record of every policy event and action; columns match the simulator's event log."""

    __tablename__ = "event_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    time_s: Mapped[float]  # seconds since launch
    worker: Mapped[str] = mapped_column(String(32), default="")
    event: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class Outbox(Base):
    """An action that reaches outside (a platform call, a payment), recorded before it runs, retried from here."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hire | expire | stop | pay
    payload: Mapped[dict[str, Any]]
    key: Mapped[str] = mapped_column(String(64), unique=True)  # idempotency key given to the platform
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class Payment(Base):
    """A ledger line: written pending before the platform call, marked paid after it; amounts in cents."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("assignment_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reward | waiting | active
    amount_cents: Mapped[int]
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | paid | failed
    key: Mapped[str] = mapped_column(String(64), unique=True)
    platform_ref: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    assignment: Mapped[Assignment] = relationship()


class ProcessedNotification(Base):
    """A platform notification already handled (SQS message, webhook), so a replay is ignored."""

    __tablename__ = "processed_notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    received_at: Mapped[datetime]


class PresenceRow(Base):
    """One server process's view of one stint: its open sockets there and its last sign of life (issue 17)."""

    __tablename__ = "presence"
    process_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    assignment_key: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    project_id: Mapped[int]
    last_seen: Mapped[datetime]
    sockets: Mapped[int]


# The Prolific bonus journal, declared by its adapter (pavilion.runtime.platforms.prolific.journal) and copied into
# these models so that the migrations create it and the schema check covers it.
prolific_bonus_journal = bonus_journal.to_metadata(Base.metadata)
