"""one-time link codes and claims waiting for a manager (issue 11: who may speak for whom)

Revision ID: 0003_identity
Revises: 0002_board
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0003_identity'
down_revision = '0002_board'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=100), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_codes_project_id'), ['project_id'], unique=False)

    op.create_table('link_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('display', sa.String(length=80), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'name', 'platform')
    )


def downgrade() -> None:
    op.drop_table('link_claims')
    with op.batch_alter_table('link_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_codes_project_id'))
    op.drop_table('link_codes')
