"""dated facts: registrations and lapses written when they happen (issue 19 item 1, RULES §11);
report_tokens: the report pages' own link, apart from the board's (item 3, RULES §10)

Backfill: every customer's registration history that the database still holds. Each change to a
customer left its before-image in the change log (audit.undo rows); the images in log order and the
current row are the customer's successive records. A registration is a new record or a changed
registered_at (not the verifying of a pending one); a lapse is a record that changed after its
owner's validity had ended. Lapses the current record still shows are counted from it, as before.

Revision ID: 0012_dated_facts
Revises: 0014_relatives_benefits
Create Date: 2026-12-02
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0012_dated_facts'
down_revision = '0014_relatives_benefits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dated_facts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('member', sa.String(length=40), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('customer_id', 'kind', 'at'),
    )
    op.create_index('ix_dated_facts_report', 'dated_facts', ['project_id', 'kind', 'at', 'member'])
    _backfill(op.get_bind())
    op.create_table(
        'report_tokens',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('project_id'),
        sa.UniqueConstraint('token'),
    )


def downgrade() -> None:
    op.drop_table('report_tokens')
    op.drop_index('ix_dated_facts_report', table_name='dated_facts')
    op.drop_table('dated_facts')


TIME = storage.models.UTCDateTime()


def _utc(v):
    """A stored time (naive UTC from a column, as text on SQLite; ISO text with an offset from a
    before-image) as aware UTC."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)


def _record(row) -> dict:
    return {k: (_utc(row.get(k)) if k in ("registered_at", "valid_until") else row.get(k))
            for k in ("project_id", "owner", "status", "registered_by", "registered_at", "valid_until")}


def _histories(conn) -> dict[int, list]:
    """{customer id: [(record, time of the change that ended it)…, (current record, None)]}."""
    out: dict[int, list] = {}
    audit = conn.execute(sa.text("SELECT at, undo FROM audit WHERE undo IS NOT NULL ORDER BY id"))
    for at, undo in audit:
        undo = json.loads(undo) if isinstance(undo, str) else undo
        for item in (undo or {}).get("rows", []) if isinstance(undo, dict) else []:
            if len(item) == 3 and item[0] == "customers" and isinstance(item[2], dict):
                out.setdefault(item[1], []).append((_record(item[2]), _utc(at)))
    customers = conn.execute(sa.text("SELECT id, project_id, owner, status, registered_by, registered_at, "
                                     "valid_until FROM customers"))
    for row in customers.mappings():
        out.setdefault(row["id"], []).append((_record(dict(row)), None))
    return out


def _facts(cid: int, history: list) -> list[dict]:
    """The dated facts of one customer's successive records (rules.customers.facts_of_change, frozen here)."""
    facts, prev, prev_end = [], None, None
    for rec, end in history:
        if prev is not None and prev["owner"] and prev["status"] == "active" and prev["valid_until"] \
                and prev_end is not None and prev_end > prev["valid_until"] \
                and (rec["owner"], rec["status"], rec["valid_until"]) != (prev["owner"], prev["status"],
                                                                           prev["valid_until"]):
            facts.append(("lapsed", prev["owner"], prev["valid_until"], prev["project_id"]))
        if rec["registered_at"] and rec["registered_by"] and (
                prev is None or (prev["status"] != "pending" and rec["registered_at"] != prev["registered_at"])):
            facts.append(("registered", rec["registered_by"], rec["registered_at"], rec["project_id"]))
        prev, prev_end = rec, end
    return [{"project_id": p, "customer_id": cid, "kind": k, "member": who, "at": at} for k, who, at, p in facts]


def _backfill(conn) -> None:
    rows, seen = [], set()
    for cid, history in _histories(conn).items():
        if history[-1][1] is not None:          # no current row (the customer is gone): nothing to point at
            continue
        for f in _facts(cid, history):
            key = (cid, f["kind"], f["at"])
            if key not in seen and f["project_id"] is not None:
                seen.add(key)
                rows.append(f)
    if rows:
        table = sa.table('dated_facts', *(sa.column(c) for c in ("project_id", "customer_id", "kind", "member")),
                         sa.column("at", TIME))
        conn.execute(table.insert(), rows)
