"""each outbox row carries its kind and the day it belongs to; a day's announcements left unsent by a
killed process are dropped once that day is over (dropped_at), never sent late

Revision ID: 0008_outbox_kind
Revises: 0007_stored_events
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008_outbox_kind'
down_revision = '0007_stored_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild on SQLite); rows from before carry no kind and are never dropped
    op.add_column('outbox', sa.Column('kind', sa.String(length=16), nullable=True))
    op.add_column('outbox', sa.Column('day', sa.Date(), nullable=True))
    op.add_column('outbox', sa.Column('dropped_at', storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('dropped_at')
        batch_op.drop_column('day')
        batch_op.drop_column('kind')
