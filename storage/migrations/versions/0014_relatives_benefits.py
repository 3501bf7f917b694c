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
        sa.Column('makeup', sa.Boolean(), nullable=False),
        sa.Column('used_day', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_benefits_day', 'benefits', ['project_id', 'day', 'member'])
    _makeups_from_the_log()
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


EARNED, USED = ' 获得补接', '补接已用'


def _makeups_from_the_log() -> None:
    """Make-ups were counted from the change log's wording; each becomes a row once, here, so the reports
    of past periods keep their figures: an earned one per "X 获得补接" line, marked used by the next
    "X 计接待名次…补接已用" line of the same member (not undone, /撤销 rows left out)."""
    conn = op.get_bind()
    meta = sa.MetaData()
    audit = sa.Table('audit', meta, sa.Column('id', sa.Integer), sa.Column('project_id', sa.Integer),
                     sa.Column('day', sa.Date), sa.Column('at', storage.models.UTCDateTime()),
                     sa.Column('reasons', sa.JSON), sa.Column('kind', sa.String), sa.Column('undone_by', sa.Integer))
    benefits = sa.Table('benefits', meta, autoload_with=conn)
    rows = conn.execute(sa.select(audit.c.project_id, audit.c.day, audit.c.at, audit.c.reasons).where(
        audit.c.kind != 'undo', audit.c.undone_by.is_(None)).order_by(audit.c.id)).all()
    open_: dict[tuple[int, str], list[int]] = {}
    for project_id, day, at, reasons in rows:
        for reason in reasons or []:
            who = str(reason).split(' ', 1)[0]
            if EARNED in reason:
                new = conn.execute(sa.insert(benefits).values(
                    project_id=project_id, day=day, member=who, kind='makeup', reason='', reception_id=None,
                    at=at, withdrawn_why='', makeup=True).returning(benefits.c.id)).scalar_one()
                open_.setdefault((project_id, who), []).append(new)
            elif USED in reason and open_.get((project_id, who)):
                conn.execute(sa.update(benefits).where(benefits.c.id == open_[(project_id, who)].pop(0))
                             .values(used_day=day))


def downgrade() -> None:
    op.drop_index('ix_aways_day', table_name='aways')
    op.drop_table('aways')
    op.drop_index('ix_benefits_day', table_name='benefits')
    op.drop_table('benefits')
    op.drop_index('ix_relatives_phone', table_name='relatives')
    op.drop_table('relatives')
