"""one record per person (RULES §5.5): a customer's further phones; the lapse before a registration
(RULES §5.9, §7); ownership appeals without a deal (issue 17 items 14, 15)

Earlier `/核实 … 同一人` decisions kept the second phone as a record of its own (its note says
「经理核实：与 138****0001 为同一人」); the upgrade merges each into the customer it names: the phone
becomes that customer's further phone, its receptions and deals move over, the later validity wins.
The downgrade splits every further phone back into a record of its own, as before.

Revision ID: 0013_customer_phones
Revises: 0012_dated_facts
Create Date: 2026-12-02
"""
import re

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0013_customer_phones'
down_revision = '0012_dated_facts'
branch_labels = None
depends_on = None

TWIN = re.compile(r"经理核实：与 (1[3-9]\d)\*{4}(\d{4}) 为同一人")
ACTIVE, CLOSED = "active", "closed"


def upgrade() -> None:
    op.create_table(
        'customer_phones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customers.id'), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'phone'),
    )
    op.create_index('ix_customer_phones_customer_id', 'customer_phones', ['customer_id'])
    with op.batch_alter_table('customers') as b:
        b.add_column(sa.Column('prev_owner', sa.String(length=40), nullable=True))
        b.add_column(sa.Column('prev_until', storage.models.UTCDateTime(), nullable=True))
        b.add_column(sa.Column('lapse_due_at', storage.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table('appeals') as b:
        b.alter_column('deal_id', existing_type=sa.Integer(), nullable=True)
        b.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        b.create_foreign_key('fk_appeals_customer_id', 'customers', ['customer_id'], ['id'])
    _merge_twins(op.get_bind())


def _tables(conn):
    meta = sa.MetaData()
    meta.reflect(conn, only=('customers', 'customer_phones', 'receptions', 'deals', 'dated_facts', 'relatives'))
    return meta.tables


def _merge_twins(conn) -> None:
    """Each record a 同一人 decision split off, merged into the customer its note names."""
    t = _tables(conn)
    c = t['customers']
    split = conn.execute(sa.select(c).where(c.c.note.like('%经理核实：与 %为同一人%')).order_by(c.c.id)).all()
    for row in split:
        mt = TWIN.search(row.note or "")
        if mt is None:
            continue
        twins = conn.execute(sa.select(c).where(
            c.c.project_id == row.project_id, c.c.id != row.id,
            c.c.phone.like(f"{mt.group(1)}%{mt.group(2)}")).order_by(c.c.id)).all()
        if len(twins) > 1:                  # the masked phone is not enough: the one of the same name
            twins = [x for x in twins if x.name == row.name or row.name in (x.other_names or [])]
        if len(twins) == 1 and twins[0].id not in {r.id for r in split}:
            _merge(conn, t, row, twins[0])


def _merge(conn, t, row, twin) -> None:
    """`row` into `twin`: with the same owner the later validity (or a deal) of the two wins; with
    owners that differ since (a lapse, a /转移), the existing customer's ownership stands."""
    c = t['customers']
    names = list(twin.other_names or [])
    for n in [row.name, *(row.other_names or [])]:
        if n != twin.name and n not in names:
            names.append(n)
    values: dict[str, object] = {"other_names": names}
    if row.owner == twin.owner:
        closed = CLOSED in (row.status, twin.status)
        until = None if closed else max((u for u in (row.valid_until, twin.valid_until) if u), default=None)
        later = until is not None and until != twin.valid_until
        values.update(status=CLOSED if closed else twin.status, valid_until=until,
                      last_activity_at=max((u for u in (row.last_activity_at, twin.last_activity_at) if u), default=None),
                      due_at=row.due_at if later else (None if closed else twin.due_at),
                      due_stage=row.due_stage if later else twin.due_stage)
    conn.execute(sa.update(c).where(c.c.id == twin.id).values(**values))
    conn.execute(sa.insert(t['customer_phones']).values(
        project_id=row.project_id, customer_id=twin.id, phone=row.phone))
    f = t['dated_facts']                    # the same registration recorded for both: keep the twin's
    conn.execute(sa.delete(f).where(f.c.customer_id == row.id, sa.tuple_(f.c.kind, f.c.at).in_(
        sa.select(f.c.kind, f.c.at).where(f.c.customer_id == twin.id))))
    for name in ('receptions', 'deals', 'dated_facts', 'relatives'):
        conn.execute(sa.update(t[name]).where(t[name].c.customer_id == row.id).values(customer_id=twin.id))
    conn.execute(sa.delete(c).where(c.c.id == row.id))


def _split_phones(conn) -> None:
    """Every further phone back to a record of its own (as before this revision)."""
    t = _tables(conn)
    c, p = t['customers'], t['customer_phones']
    for ph in conn.execute(sa.select(p).order_by(p.c.id)).all():
        cust = conn.execute(sa.select(c).where(c.c.id == ph.customer_id)).one()
        values = {k: v for k, v in cust._mapping.items()
                  if k not in ('id', 'phone', 'note', 'prev_owner', 'prev_until', 'lapse_due_at')}
        masked = cust.phone[:3] + "****" + cust.phone[-4:]
        conn.execute(sa.insert(c).values(**values, phone=ph.phone, note=f"经理核实：与 {masked} 为同一人"))


def downgrade() -> None:
    _split_phones(op.get_bind())
    conn = op.get_bind()
    a = sa.Table('appeals', sa.MetaData(), autoload_with=conn)
    conn.execute(sa.delete(a).where(a.c.deal_id.is_(None)))       # ownership appeals had no place before
    with op.batch_alter_table('appeals') as b:
        b.drop_constraint('fk_appeals_customer_id', type_='foreignkey')
        b.drop_column('customer_id')
        b.alter_column('deal_id', existing_type=sa.Integer(), nullable=False)
    for column in ('lapse_due_at', 'prev_until', 'prev_owner'):     # (SQLite ≥ 3.35 drops a column in place:
        op.drop_column('customers', column)                         # no copy of a table others refer to)
    op.drop_index('ix_customer_phones_customer_id', table_name='customer_phones')
    op.drop_table('customer_phones')
