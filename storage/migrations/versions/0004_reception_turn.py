"""receptions remember whether they were a counted rotation turn and what they earned (RULES §4);
deals keep a note (a second 成交 the same day corrects units and note, RULES §6.1)

Revision ID: 0004_turn
Revises: 0003_identity
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_turn'
down_revision = '0003_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('turn', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('benefit', sa.String(length=10), nullable=False, server_default=''))
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_column('note')
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.drop_column('benefit')
        batch_op.drop_column('turn')
