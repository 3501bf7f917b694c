"""members.wecom_id: a member's 企业微信 userid (issue 20, the WeCom intelligent bot)

Revision ID: 0010_wecom
Revises: 0009_link_guesses
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_wecom'
down_revision = '0009_link_guesses'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wecom_id', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_members_wecom_id'), ['wecom_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_wecom_id'))
        batch_op.drop_column('wecom_id')
