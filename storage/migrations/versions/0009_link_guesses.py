"""wrong one-time codes by account: guessing is rate-limited per account (issue 22 item 6)

Revision ID: 0009_link_guesses
Revises: 0008_outbox_kind
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0009_link_guesses'
down_revision = '0008_outbox_kind'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'link_guesses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('account', sa.String(length=80), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_link_guesses_account', 'link_guesses', ['platform', 'account', 'at'])


def downgrade() -> None:
    op.drop_index('ix_link_guesses_account', table_name='link_guesses')
    op.drop_table('link_guesses')
