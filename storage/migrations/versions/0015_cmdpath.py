"""projects.roster_version: bumped in the transaction that changes a member, so every process can keep
the roster in memory and see, from the project row it locks anyway, when it must read it again (issue 23)

Revision ID: 0015_cmdpath
Revises: 0013_customer_phones
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_cmdpath'
down_revision = '0013_customer_phones'
branch_labels = None
depends_on = None


# plain ALTER TABLE on both databases (SQLite ≥ 3.35 drops a column in place): a batch rebuild of
# `projects` would have to drop the table every other table references


def upgrade() -> None:
    op.add_column('projects', sa.Column('roster_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('projects', 'roster_version')
