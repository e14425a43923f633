"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 16:33:47.992307
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('conversation_state',
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('flow', sa.String(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('telegram_id')
    )
    op.create_table('coordinator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('telegram_id')
    )
    op.create_table('department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_code'), ['code'], unique=True)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('timezone', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('due_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('opened_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('closed_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('reminder_offsets', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month')
    )
    op.create_table('user_preference',
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('language', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_id')
    )
    op.create_table('work_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('title')
    )
    op.create_table('invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('used_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('used_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_department_id'), ['department_id'], unique=False)

    op.create_table('liaison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('unreachable', sa.Boolean(), nullable=False),
    sa.Column('joined_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('telegram_id')
    )
    with op.batch_alter_table('liaison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_liaison_department_id'), ['department_id'], unique=False)

    op.create_table('reminder_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('claimed_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_id', 'recipient_id', 'slot')
    )
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_log_period_id'), ['period_id'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('submitted_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('submitted_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_id', 'work_item_id', 'department_id')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_period_id'), ['period_id'], unique=False)

    op.create_table('work_item_department',
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_item.id'], ),
    sa.PrimaryKeyConstraint('work_item_id', 'department_id')
    )
    op.create_table('reminder_mute',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('liaison_id', sa.Integer(), nullable=False),
    sa.Column('muted_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['liaison_id'], ['liaison.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.PrimaryKeyConstraint('period_id', 'liaison_id')
    )
    op.create_table('submission_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('submitted_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('submitted_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('submission_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_revision_submission_id'), ['submission_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('submission_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_revision_submission_id'))

    op.drop_table('submission_revision')
    op.drop_table('reminder_mute')
    op.drop_table('work_item_department')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_period_id'))

    op.drop_table('submission')
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_log_period_id'))

    op.drop_table('reminder_log')
    with op.batch_alter_table('liaison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liaison_department_id'))

    op.drop_table('liaison')
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_department_id'))

    op.drop_table('invite')
    op.drop_table('work_item')
    op.drop_table('user_preference')
    op.drop_table('period')
    op.drop_table('organisation')
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_code'))

    op.drop_table('department')
    op.drop_table('coordinator')
    op.drop_table('conversation_state')

