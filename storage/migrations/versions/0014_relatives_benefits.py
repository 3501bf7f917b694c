"""relatives (a buyer's household), benefits and aways as rows (issue 17: RULES §6.2, §9a)

Revision ID: 0014_relatives_benefits
Revises: 0010_wecom
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0014_relatives_benefits'
down_revision = '0010_wecom'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'relatives',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customers.id'), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('relation', sa.String(length=10), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_relatives_phone', 'relatives', ['project_id', 'phone'])
    op.create_table(
        'benefits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('member', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('reception_id', sa.Integer(), sa.ForeignKey('receptions.id'), nullable=True),
        sa.Column('at', storage.models.UTCDateTime(), nullable=False),
        sa.Column('withdrawn_by', sa.String(length=40), nullable=True),
        sa.Column('withdrawn_at', storage.models.UTCDateTime(), nullable=True),
        sa.Column('withdrawn_why', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_benefits_day', 'benefits', ['project_id', 'day', 'member'])
    op.create_table(
        'aways',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('member', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('started_at', storage.models.UTCDateTime(), nullable=False),
        sa.Column('ended_at', storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_aways_day', 'aways', ['project_id', 'day'])


def downgrade() -> None:
    op.drop_index('ix_aways_day', table_name='aways')
    op.drop_table('aways')
    op.drop_index('ix_benefits_day', table_name='benefits')
    op.drop_table('benefits')
    op.drop_index('ix_relatives_phone', table_name='relatives')
    op.drop_table('relatives')
