"""period snapshot: each period keeps its key work items, titles, owners and order;
key work items get an optional stable code

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_work_item_code'), ['code'], unique=True)

    op.create_table('period_item',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_item.id'], ),
    sa.PrimaryKeyConstraint('period_id', 'work_item_id')
    )
    op.create_table('period_owner',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('department_name', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], ),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_item.id'], ),
    sa.PrimaryKeyConstraint('period_id', 'work_item_id', 'department_id')
    )

    # Existing periods get the roster as it is now: the best record there is of what they had.
    op.execute(
        "INSERT INTO period_item (period_id, work_item_id, title, position) "
        "SELECT period.id, work_item.id, work_item.title, work_item.position "
        "FROM period CROSS JOIN work_item WHERE work_item.active"
    )
    op.execute(
        "INSERT INTO period_owner "
        "(period_id, work_item_id, department_id, department_name, position) "
        "SELECT period.id, link.work_item_id, link.department_id, department.name, link.position "
        "FROM period CROSS JOIN work_item_department AS link "
        "JOIN work_item ON work_item.id = link.work_item_id "
        "JOIN department ON department.id = link.department_id "
        "WHERE work_item.active AND department.active"
    )


def downgrade() -> None:
    op.drop_table('period_owner')
    op.drop_table('period_item')
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_item_code'))
        batch_op.drop_column('code')
