"""Migration 0013 (issue 17 item 15) on SQLite and PostgreSQL: the records earlier `/核实 … 同一人`
decisions split are merged into one per person, and the downgrade splits them back."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, insert, inspect, select

from storage.db import make_engine
from tests.integration.test_migrations import _alembic

BEFORE, AFTER = "0009_link_guesses", "0013_customer_phones"
# naive UTC, as the reflected columns take it
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC).replace(tzinfo=None)
EARLY = datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC).replace(tzinfo=None)
LATE = datetime(2026, 12, 3, 15, 59, 59, tzinfo=UTC).replace(tzinfo=None)


def _customer(name, phone, until, note="", owner="李四"):
    return dict(project_id=1, name=name, phone=phone, owner=owner, status="active", registered_by=owner,
                registered_at=T0, last_activity_at=T0, valid_until=until, note=note, other_names=[],
                due_at=until, due_stage=0)


def _fill(engine) -> None:
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:                  # ids from the sequences, as the bot's rows have them
        conn.execute(insert(t["projects"]).values(name="阳光花园", state={}))
        for values in (_customer("张三", "13812345678", EARLY),
                       _customer("张三", "13900002222", LATE, note="经理核实：与 138****5678 为同一人"),
                       _customer("王芳", "13700003333", EARLY, owner="王五")):
            conn.execute(insert(t["customers"]).values(**values))
        conn.execute(insert(t["receptions"]).values(
            project_id=1, day=T0.date(), member="王五", customer_id=2, category="handover", kind="",
            turn=False, benefit="", started_at=T0))


def _rows(engine, table: str) -> list:
    meta = MetaData()
    meta.reflect(engine, only=(table,))
    with engine.connect() as conn:
        return conn.execute(select(meta.tables[table]).order_by(meta.tables[table].c.id)).all()


def test_the_upgrade_merges_split_records_and_the_downgrade_splits_them_back(db_url):
    engine = make_engine(db_url)
    _alembic(engine, BEFORE)
    _fill(engine)
    _alembic(engine, AFTER)
    customers = _rows(engine, "customers")
    assert [(c.id, c.name, c.phone) for c in customers] == [(1, "张三", "13812345678"), (3, "王芳", "13700003333")]
    assert customers[0].valid_until == LATE                      # the later validity of the two wins
    assert [(p.customer_id, p.phone) for p in _rows(engine, "customer_phones")] == [(1, "13900002222")]
    assert [r.customer_id for r in _rows(engine, "receptions")] == [1]
    _alembic(engine, BEFORE, command.downgrade)
    assert "customer_phones" not in inspect(engine).get_table_names()
    customers = _rows(engine, "customers")
    assert sorted((c.name, c.phone, c.owner) for c in customers) == [
        ("张三", "13812345678", "李四"), ("张三", "13900002222", "李四"), ("王芳", "13700003333", "王五")]
    split = next(c for c in customers if c.phone == "13900002222")
    assert split.note == "经理核实：与 138****5678 为同一人" and split.valid_until == LATE
    _alembic(engine, AFTER)                                        # and up again: one record per person
    assert len(_rows(engine, "customers")) == 2
    engine.dispose()


def test_a_split_record_whose_twin_is_not_found_is_left_alone(db_url):
    engine = make_engine(db_url)
    _alembic(engine, BEFORE)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        conn.execute(insert(meta.tables["projects"]).values(name="阳光花园", state={}))
        conn.execute(insert(meta.tables["customers"]).values(**_customer(
            "张三", "13900002222", LATE, note="经理核实：与 138****5678 为同一人")))
    _alembic(engine, AFTER)
    assert [c.phone for c in _rows(engine, "customers")] == ["13900002222"]
    assert _rows(engine, "customer_phones") == []
    engine.dispose()


def test_a_split_record_whose_owner_changed_since_joins_the_existing_customer_as_it_is(db_url):
    engine = make_engine(db_url)
    _alembic(engine, BEFORE)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        conn.execute(insert(meta.tables["projects"]).values(name="阳光花园", state={}))
        conn.execute(insert(meta.tables["customers"]).values(**_customer("张三", "13812345678", EARLY, owner="王五")))
        conn.execute(insert(meta.tables["customers"]).values(**_customer(
            "张三", "13900002222", LATE, note="经理核实：与 138****5678 为同一人")))
        conn.execute(insert(meta.tables["customers"]).values(**_customer("李娟", "13856785678", LATE)))
    _alembic(engine, AFTER)
    rows = _rows(engine, "customers")
    assert [(c.name, c.owner, c.valid_until) for c in rows] == [("张三", "王五", EARLY), ("李娟", "李四", LATE)]
    assert [p.phone for p in _rows(engine, "customer_phones")] == ["13900002222"]
    engine.dispose()
