"""the year report under 200 ms (issue 23 item 3): `reception_counts`, receptions per project, day and
salesperson (counted for them / theirs not counted for them), and `visit_counts`, visitors per project
and day (each customer once, each reception without one), kept by triggers on `receptions` on both
databases and filled from the receptions already there; receptions' report index also holds
customer_id, benefits' day index the make-up and withdrawal, and a new one the day a make-up was
used; so no report query reads a table row or sorts 200k.

The board's change signal on PostgreSQL (issue 23 item 4): a trigger sends
`NOTIFY reception_changes, '<project id>'` when a change is logged (audit), a project's day state moves
(projects) or a board link is reset (board_tokens); every process LISTENs once (storage/changes.py)
instead of every open board polling. PostgreSQL delivers it at COMMIT, once per project and transaction.
SQLite needs nothing: its change signal is PRAGMA data_version.

Revision ID: 0017_report_speed
Revises: 0013_customer_phones
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_report_speed'
down_revision = '0015_cmdpath'
branch_labels = None
depends_on = None

OLD_RECEPTIONS = ['project_id', 'day', 'category', 'member', 'counted_for']
OLD_BENEFITS = ['project_id', 'day', 'member']

# one reception's part in reception_counts: +1 (inserted) or -1 (deleted), both for a changed row
SQLITE_PART = """
INSERT INTO reception_counts (project_id, day, member, counted, uncounted)
  SELECT {r}.project_id, {r}.day, {r}.counted_for, {sign}, 0
  WHERE {r}.category != 'errand' AND COALESCE({r}.counted_for, '') != ''
  ON CONFLICT (project_id, day, member) DO UPDATE SET counted = counted + {sign};
INSERT INTO reception_counts (project_id, day, member, counted, uncounted)
  SELECT {r}.project_id, {r}.day, {r}.member, 0, {sign}
  WHERE {r}.category != 'errand' AND ({r}.counted_for IS NULL OR {r}.counted_for != {r}.member)
  ON CONFLICT (project_id, day, member) DO UPDATE SET uncounted = uncounted + {sign};
"""
# a visitor: +1 unless another non-errand reception of the day has the same customer (a repeat)
SQLITE_VISIT = """
INSERT INTO visit_counts (project_id, day, visitors)
  SELECT {r}.project_id, {r}.day, {sign}
  WHERE {r}.category != 'errand' AND ({r}.customer_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM receptions o WHERE o.customer_id = {r}.customer_id AND o.project_id = {r}.project_id
      AND o.day = {r}.day AND o.category != 'errand' AND o.id != {r}.id))
  ON CONFLICT (project_id, day) DO UPDATE SET visitors = visitors + {sign};
"""


def _sqlite_part(r: str, sign: int) -> str:
    return SQLITE_PART.format(r=r, sign=sign) + SQLITE_VISIT.format(r=r, sign=sign)


COUNTED_COLUMNS = "project_id, day, member, counted_for, category, customer_id"
# (SQLite runs a row's trigger as soon as that row changed, so a repeat check sees the rows before it)
SQLITE_TRIGGERS = {
    "receptions_count_insert": f"AFTER INSERT ON receptions BEGIN {_sqlite_part('NEW', 1)} END",
    "receptions_count_delete": f"AFTER DELETE ON receptions BEGIN {_sqlite_part('OLD', -1)} END",
    "receptions_count_update": f"AFTER UPDATE OF {COUNTED_COLUMNS} ON receptions BEGIN "
                               f"{_sqlite_part('OLD', -1)} {_sqlite_part('NEW', 1)} END",
}
PG_COUNTS = """
CREATE FUNCTION reception_counts_add(r receptions, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF r.category = 'errand' THEN RETURN; END IF;
  IF COALESCE(r.counted_for, '') <> '' THEN
    INSERT INTO reception_counts AS c (project_id, day, member, counted, uncounted)
      VALUES (r.project_id, r.day, r.counted_for, sign, 0)
      ON CONFLICT (project_id, day, member) DO UPDATE SET counted = c.counted + sign;
  END IF;
  IF r.counted_for IS NULL OR r.counted_for <> r.member THEN
    INSERT INTO reception_counts AS c (project_id, day, member, counted, uncounted)
      VALUES (r.project_id, r.day, r.member, 0, sign)
      ON CONFLICT (project_id, day, member) DO UPDATE SET uncounted = c.uncounted + sign;
  END IF;
END $$
---
CREATE FUNCTION reception_counts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM reception_counts_add(OLD, -1); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM reception_counts_add(NEW, 1); END IF;
  RETURN NULL;
END $$
---
CREATE TRIGGER receptions_count AFTER INSERT OR DELETE OR UPDATE OF project_id, day, member, counted_for, category
  ON receptions FOR EACH ROW EXECUTE FUNCTION reception_counts_trigger()
---
CREATE FUNCTION visit_counts_add(r receptions, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF r.category = 'errand' THEN RETURN; END IF;
  IF r.customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM receptions o WHERE o.customer_id = r.customer_id
      AND o.project_id = r.project_id AND o.day = r.day AND o.category <> 'errand' AND o.id <> r.id) THEN
    RETURN;
  END IF;
  INSERT INTO visit_counts AS v (project_id, day, visitors) VALUES (r.project_id, r.day, sign)
    ON CONFLICT (project_id, day) DO UPDATE SET visitors = v.visitors + sign;
END $$
---
CREATE FUNCTION visit_counts_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM visit_counts_add(OLD, -1); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM visit_counts_add(NEW, 1); RETURN NEW; END IF;
  RETURN OLD;
END $$
---
CREATE TRIGGER receptions_visit BEFORE INSERT OR DELETE OR UPDATE OF project_id, day, customer_id, category
  ON receptions FOR EACH ROW EXECUTE FUNCTION visit_counts_trigger()
"""
# (BEFORE on PostgreSQL: an AFTER row trigger runs at the end of the statement, when a multi-row DELETE
# has removed every repeat already; a BEFORE one sees the rows processed before it, like SQLite's)
FILL_VISITS = """
INSERT INTO visit_counts (project_id, day, visitors)
SELECT project_id, day, COUNT(DISTINCT customer_id) + SUM(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END)
  FROM receptions WHERE category != 'errand' GROUP BY project_id, day
"""
FILL = """
INSERT INTO reception_counts (project_id, day, member, counted, uncounted)
SELECT project_id, day, member, SUM(counted), SUM(uncounted) FROM (
  SELECT project_id, day, counted_for AS member, 1 AS counted, 0 AS uncounted FROM receptions
    WHERE category != 'errand' AND COALESCE(counted_for, '') != ''
  UNION ALL
  SELECT project_id, day, member, 0, 1 FROM receptions
    WHERE category != 'errand' AND (counted_for IS NULL OR counted_for != member)
) parts GROUP BY project_id, day, member
"""

TABLES = {"audit": "INSERT OR UPDATE", "projects": "UPDATE", "board_tokens": "INSERT OR UPDATE"}
FUNCTION = """
CREATE FUNCTION reception_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'projects' THEN
    PERFORM pg_notify('reception_changes', NEW.id::text);
  ELSE
    PERFORM pg_notify('reception_changes', NEW.project_id::text);
  END IF;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        'reception_counts',
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('member', sa.String(length=40), nullable=False),
        sa.Column('counted', sa.Integer(), nullable=False),
        sa.Column('uncounted', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('project_id', 'day', 'member'),
    )
    op.create_table(
        'visit_counts',
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('visitors', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('project_id', 'day'),
    )
    op.execute(FILL)
    op.execute(FILL_VISITS)
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_COUNTS.split("---"):
            op.execute(statement)
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    _indexes(OLD_RECEPTIONS + ['customer_id'], OLD_BENEFITS + ['makeup', 'withdrawn_by'])
    op.create_index('ix_benefits_used', 'benefits', ['project_id', 'used_day', 'member', 'makeup'])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, events in TABLES.items():
        op.execute(f"CREATE TRIGGER {table}_notify AFTER {events} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION reception_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER receptions_count ON receptions")
        op.execute("DROP FUNCTION reception_counts_trigger()")
        op.execute("DROP FUNCTION reception_counts_add(receptions, int)")
        op.execute("DROP TRIGGER receptions_visit ON receptions")
        op.execute("DROP FUNCTION visit_counts_trigger()")
        op.execute("DROP FUNCTION visit_counts_add(receptions, int)")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('reception_counts')
    op.drop_table('visit_counts')
    op.drop_index('ix_benefits_used', table_name='benefits')
    _indexes(OLD_RECEPTIONS, OLD_BENEFITS)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify ON {table}")
    op.execute("DROP FUNCTION reception_notify()")


def _indexes(receptions: list[str], benefits: list[str]) -> None:
    """The two report indexes with these columns (no batch mode: an index needs no table copy)."""
    op.drop_index('ix_receptions_report', table_name='receptions')
    op.create_index('ix_receptions_report', 'receptions', receptions)
    op.drop_index('ix_benefits_day', table_name='benefits')
    op.create_index('ix_benefits_day', 'benefits', benefits)
