"""handled updates: each Telegram update is handled once

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('handled_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_update_handled_at'), ['handled_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handled_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handled_update_handled_at'))

    op.drop_table('handled_update')
