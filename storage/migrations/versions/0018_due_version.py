"""projects.due_version: bumped in the transaction that brings a customer reminder or a reception nudge
sooner, so every process can keep each project's next due time in memory and see, from the project row
it locks anyway, when it must read it again (issue 23: no probe statement on the command path)

Revision ID: 0018_due_version
Revises: 0017_report_speed
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_due_version'
down_revision = '0017_report_speed'
branch_labels = None
depends_on = None


# plain ALTER TABLE on both databases, as 0015: a batch rebuild of `projects` would have to drop the
# table every other table references


def upgrade() -> None:
    op.add_column('projects', sa.Column('due_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('projects', 'due_version')
