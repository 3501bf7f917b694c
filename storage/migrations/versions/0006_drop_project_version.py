"""drop projects.version: written on every command, never read (issue 12, dead code)

Revision ID: 0006_drop_version
Revises: 0005_outbox
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_drop_version'
down_revision = '0005_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('version')


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
