"""admin logins (revoked at logout) and API token prefixes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per admin login: a session cookie is honoured only while its row is there and not revoked.
    op.create_table(
        "admin_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("login_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login_hash"),
    )
    op.create_index(op.f("ix_admin_logins_admin_id"), "admin_logins", ["admin_id"], unique=False)
    # The first characters of a token, shown by `pavilion admin list-tokens` so one can be revoked by prefix.
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("prefix", sa.String(length=8), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("prefix")
    op.drop_index(op.f("ix_admin_logins_admin_id"), table_name="admin_logins")
    op.drop_table("admin_logins")
