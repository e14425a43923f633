"""inbox: every update stored before Telegram is told it arrived; leases per sender

The handled update ids (handled_update) move into the inbox as handled, so a repeat of
one delivered before the upgrade is still ignored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WAITING = "handled_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "inbox_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_inbox_update_handled_at", "inbox_update", ["handled_at"])
    op.create_index(
        "ix_inbox_update_waiting",
        "inbox_update",
        ["sender", "update_id"],
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    op.create_table(
        "inbox_lease",
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("worker", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )
    op.execute(
        "INSERT INTO inbox_update (update_id, sender, body, received_at, handled_at) "
        "SELECT update_id, '', '{}', handled_at, handled_at FROM handled_update"
    )
    op.drop_table("handled_update")


def downgrade() -> None:
    op.create_table(
        "handled_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_handled_update_handled_at", "handled_update", ["handled_at"])
    op.execute(
        "INSERT INTO handled_update (update_id, handled_at) "
        "SELECT update_id, handled_at FROM inbox_update WHERE handled_at IS NOT NULL"
    )
    op.drop_table("inbox_lease")
    op.drop_table("inbox_update")
