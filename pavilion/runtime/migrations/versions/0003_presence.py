"""presence shared across server processes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per (server process, stint): its open sockets and last sign of life, so every process's abandon
    # sweep judges by what all processes see (issue 17 item 2).
    op.create_table(
        "presence",
        sa.Column("process_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_key", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("process_id", "assignment_key"),
    )
    op.create_index("ix_presence_assignment_key", "presence", ["assignment_key"])


def downgrade() -> None:
    op.drop_index("ix_presence_assignment_key", table_name="presence")
    op.drop_table("presence")
