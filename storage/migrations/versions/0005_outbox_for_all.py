"""one outbox for every outgoing message: replies too, with attempts, retry time and give-up (issue 11 item 4)

Revision ID: 0005_outbox
Revises: 0004_turn
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0005_outbox'
down_revision = '0004_turn'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('to', existing_type=sa.String(length=40), type_=sa.Text(), existing_nullable=True)
        batch_op.add_column(sa.Column('platform', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('chat_id', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('card', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('file', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('retry_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_retry_at'), ['retry_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_retry_at'))
        for col in ('failed_at', 'retry_at', 'attempts', 'file', 'card', 'chat_id', 'platform'):
            batch_op.drop_column(col)
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('to', existing_type=sa.Text(), type_=sa.String(length=40), existing_nullable=True)
