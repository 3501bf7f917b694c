"""board tokens (/看板 links) and indexes for the reports

Revision ID: 0002_board
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0002_board'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('board_tokens',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('project_id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_registered', ['project_id', 'registered_at', 'registered_by'], unique=False)
        batch_op.create_index('ix_customers_lapse', ['project_id', 'status', 'valid_until', 'owner'], unique=False)
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.create_index('ix_receptions_report', ['project_id', 'day', 'category', 'member', 'counted_for'],
                              unique=False)
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index('ix_deals_day', ['project_id', 'day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index('ix_deals_day')
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.drop_index('ix_receptions_report')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_lapse')
        batch_op.drop_index('ix_customers_registered')
    op.drop_table('board_tokens')
