"""platform events are stored before they are acknowledged: processed_events keeps each event's payload
and whether it was handled, so a restart handles what a dead process acknowledged but never handled

Revision ID: 0007_stored_events
Revises: 0006_drop_version
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_stored_events'
down_revision = '0006_drop_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild on SQLite): every existing row was handled
    op.add_column('processed_events', sa.Column('payload', sa.Text(), nullable=True))
    op.add_column('processed_events', sa.Column('handled', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index('ix_processed_events_pending', 'processed_events', ['handled', 'at'])


def downgrade() -> None:
    op.drop_index('ix_processed_events_pending', table_name='processed_events')
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_column('handled')
        batch_op.drop_column('payload')
