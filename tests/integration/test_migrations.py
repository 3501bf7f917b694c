"""Every database any release made opens with today's code (issue 22, item 2).

For each revision since 0001 (read from Alembic's script directory), on SQLite and on PostgreSQL: a
database built at that revision with today's migration scripts, filled with rows of that era's
schema (SQLAlchemy Core inserts against the reflected tables, so the rows follow each era's
columns), is brought to head by the production `storage.db.migrate`; the rows are still there and
the state dump runs. On SQLite a batch migration rebuilds a table (copy, drop, rename): with foreign
keys enforced, dropping `projects` under its members failed (0005 -> 0006), so the migrations run
with enforcement off and `PRAGMA foreign_key_check` before the commit. A database newer than the
code is refused in one line.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, func, select, text
from sqlalchemy.exc import IntegrityError

from bot.bootstrap import bootstrap
from bot.cli import main
from bot.clock import FakeClock
from handlers.state_view import dump
from storage.db import MIGRATIONS, DatabaseProblem, SchemaTooNew, code_heads, make_engine, migrate
from tests.conftest import at


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


SCRIPT = ScriptDirectory.from_config(_config())
REVISIONS = [s.revision for s in reversed(list(SCRIPT.walk_revisions()))]      # 0001 first
HEAD = SCRIPT.get_current_head()
PROJECT = "阳光花园"                   # the project of tests/conftest.py's config
WHEN = datetime(2026, 11, 27, 2, 0, tzinfo=UTC).replace(tzinfo=None)   # naive UTC, as the reflected columns take it

# Meaningful values for the columns the code reads (per table, column: a tuple has one value per row);
# every other NOT NULL column gets a value from its reflected type, every foreign key its parent's row.
VALUES = {
    "projects": {"name": PROJECT, "state": {}},
    "members": {"name": ("李四", "王五"), "role": "sales", "active": True},
    "customers": {"name": ("张三", "王芳"), "phone": ("13812345678", "13900001111"), "owner": "李四",
                  "status": "active", "registered_by": "李四", "note": "", "other_names": []},
    "receptions": {"member": "李四", "category": "new", "kind": ""},
    "deals": {"units": 1, "shares": {"李四": 1.0}, "buyer_name": "张三", "relation": "", "reported_by": "李四"},
    "audit": {"actor": "李四", "command": "到访 张三 13812345678", "reasons": [], "kind": "cmd"},
    "outbox": {"to": None, "text": "下一位:王五", "mentions": []},
    "link_claims": {"name": "李四", "platform": "feishu"},
    "link_codes": {"name": "李四"},
}
ROWS = {"members": 2, "customers": 2}          # one row in every other table


def _alembic(engine: Engine, revision: str, action=command.upgrade) -> None:
    """`alembic upgrade <revision>` (or another command) on `engine` with today's scripts, FKs as configured."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def _version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _typed(column, n: int):
    """A value of the column's reflected type, distinct per row `n` (unique constraints)."""
    kind = column.type.python_type
    if kind is str:
        return f"{column.name}-{n}"[: getattr(column.type, "length", None) or None]
    if kind is bool:
        return False
    if kind is int:
        return n
    if kind is datetime:
        return WHEN
    if kind is date:
        return WHEN.date()
    return {} if kind is dict else []


def _needs_value(column) -> bool:
    """NOT NULL without a server default, and not an autoincrementing integer key."""
    own_id = column.primary_key and len(column.table.primary_key.columns) == 1 and column.type.python_type is int
    return not column.nullable and column.server_default is None and not own_id


def _row(table, n: int, ids: dict[str, int]) -> dict:
    """Row `n` of `table`: its foreign keys name the first row of the parent table."""
    row, given = {}, VALUES.get(table.name, {})
    for column in table.columns:
        parent = next(iter(column.foreign_keys), None)
        if parent is not None and parent.column.table.name in ids:
            row[column.name] = ids[parent.column.table.name]
        elif column.name in given:
            value = given[column.name]
            row[column.name] = value[n - 1] if isinstance(value, tuple) else value
        elif _needs_value(column):
            row[column.name] = _typed(column, n)
    return row


def _fill(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database's revision (parents first); the row count per table."""
    meta = MetaData()
    meta.reflect(engine)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            for n in range(1, ROWS.get(table.name, 1) + 1):
                key = conn.execute(table.insert().values(_row(table, n, ids))).inserted_primary_key
                if n == 1 and len(key) == 1 and isinstance(key[0], int):
                    ids[table.name] = key[0]
    return _counts(engine)


def _counts(engine: Engine) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in meta.sorted_tables if t.name != "alembic_version"}


def _at(url: str, revision: str) -> tuple[Engine, dict[str, int]]:
    """A database at `revision`, filled; its engine and row counts."""
    engine = make_engine(url)
    _alembic(engine, revision)
    assert _version(engine) == revision
    return engine, _fill(engine)


def test_the_revisions_are_one_line_from_0001_to_head():
    assert REVISIONS[0] == "0001" and REVISIONS[-1] == HEAD and len(SCRIPT.get_heads()) == 1
    assert len(REVISIONS) >= 6


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_database_of_every_revision_opens_with_its_rows(db_url, config_file, revision):
    engine, before = _at(db_url, revision)
    assert all(before.values()), before                 # every table of that era has rows

    migrate(make_engine(db_url))

    assert _version(engine) == HEAD
    after = _counts(engine)
    assert {t: after[t] for t in before if t in after} == {t: n for t, n in before.items() if t in after}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM projects")).scalars().all() == [PROJECT]
        phones = conn.execute(text("SELECT phone FROM customers ORDER BY id")).scalars().all()
        assert phones == ["13812345678", "13900001111"]
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
    app = bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-27 10:00")))
    state = dump(app.engine, app.projects[PROJECT], at("2026-11-27 10:00"))
    assert {c["phone"] for c in state["customers"]} == {"13812345678", "13900001111"}
    assert [d["units"] for d in state["deals"]] == [1]
    app.engine.dispose()


def _0005_with_members(url: str) -> Engine:
    engine, counts = _at(url, "0005_outbox")
    assert counts["members"] == 2 and counts["audit"] == 1 and counts["outbox"] == 1
    return engine


def test_0005_to_head_with_foreign_keys_enforced_fails_as_the_issue_says(tmp_path):
    """The reproduction: a project with members, customers, audit and outbox rows at 0005, upgraded with
    foreign keys on (what `migrate` did before): DROP TABLE projects fails and the database stays at 0005."""
    engine = _0005_with_members(f"sqlite:///{tmp_path}/old.db")
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        _alembic(engine, "head")
    assert _version(engine) == "0005_outbox"
    engine.dispose()


def test_0005_to_head_on_sqlite_through_the_cli(tmp_path, config_file, capsys):
    """The same database through `reception-bot state --json`: migrated to head, exit 0, the JSON state."""
    url = f"sqlite:///{tmp_path}/old.db"
    engine = _0005_with_members(url)
    rc = main(["state", "--json", "--config", str(config_file()), "--db", url, "--at", "2026-11-27 10:00"])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err, err
    assert json.loads(out)["project"] == PROJECT
    assert _version(engine) == HEAD
    engine.dispose()


def test_migrate_leaves_foreign_keys_on_in_the_pool(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    _alembic(engine, "0005_outbox")
    _fill(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            conn.execute(text("INSERT INTO members (project_id, name, role, position, active) "
                              "VALUES (99, '孤儿', 'sales', 0, 1)"))
    engine.dispose()


def test_a_migration_leaving_a_broken_reference_is_refused_and_rolled_back(tmp_path):
    """PRAGMA foreign_key_check after the migrations: a row referencing a missing project (here one
    that was already broken) refuses the upgrade in one line, and the database stays where it was."""
    engine = _0005_with_members(f"sqlite:///{tmp_path}/old.db")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            conn.execute(text("INSERT INTO members (project_id, name, role, position, active) "
                              "VALUES (99, '孤儿', 'sales', 0, 1)"))
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(DatabaseProblem, match="外键检查不通过.*members") as e:
        migrate(engine)
    assert "\n" not in str(e.value)
    assert _version(engine) == "0005_outbox"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_a_database_newer_than_the_code_is_one_line_and_exit_2(db_url, config_file, capsys):
    engine = make_engine(db_url)
    _alembic(engine, "head")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(SchemaTooNew):
        migrate(engine)

    rc = main(["state", "--json", "--config", str(config_file()), "--db", db_url, "--at", "2026-11-27 10:00"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "0099_from_the_future" in err and HEAD in err and "升级程序" in err
    assert _version(engine) == "0099_from_the_future"
    engine.dispose()


def test_the_heads_read_from_the_migration_files_are_alembics():
    assert code_heads() == set(SCRIPT.get_heads()) == {HEAD}


_OPEN_AT_HEAD = """
import sys
from sqlalchemy import event
from storage.db import make_engine, migrate
engine = make_engine(sys.argv[1])
seen = []
event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
migrate(engine)
print(repr(("alembic" in sys.modules, seen)))
"""


def test_a_database_at_head_is_opened_with_one_select_and_no_alembic(db_url):
    """Start-up (issue 23 item 5): the version table is read first; at head, Alembic is not imported
    (SQLite also rewrites the header's user_version, so a read-only file still fails at start-up)."""
    migrate(make_engine(db_url))
    out = subprocess.run([sys.executable, "-c", _OPEN_AT_HEAD, db_url], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True).stdout
    imported, statements = ast.literal_eval(out.strip().splitlines()[-1])
    assert not imported
    assert statements[0] == "SELECT version_num FROM alembic_version"
    assert statements[1:] == (["PRAGMA user_version", "PRAGMA user_version = 0"] if "sqlite" in db_url else [])


def test_an_old_database_still_takes_alembics_path(db_url):
    """The one-query check answers 'not at head' for an older revision, and the upgrade runs."""
    engine = make_engine(db_url)
    _alembic(engine, "0012_dated_facts")
    migrate(engine)
    assert _version(engine) == HEAD
    engine.dispose()


def _indexed(engine: Engine, table: str, name: str) -> list[str]:
    from sqlalchemy import inspect
    return next(ix["column_names"] for ix in inspect(engine).get_indexes(table) if ix["name"] == name)


def test_0017_report_indexes_and_the_change_trigger_go_up_and_down(db_url):
    """0017: the covering report indexes (both databases) and, on PostgreSQL, the NOTIFY trigger."""
    engine = make_engine(db_url)
    _alembic(engine, "0017_report_speed")
    assert _indexed(engine, "receptions", "ix_receptions_report")[-1] == "customer_id"
    assert _indexed(engine, "benefits", "ix_benefits_used") == ["project_id", "used_day", "member", "makeup"]
    postgres = engine.dialect.name == "postgresql"
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname IN ('audit_notify', 'projects_notify', 'board_tokens_notify')"
    if postgres:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(triggers).scalar() == 3
    _alembic(engine, "0013_customer_phones", command.downgrade)
    assert _indexed(engine, "receptions", "ix_receptions_report")[-1] == "counted_for"
    assert _indexed(engine, "benefits", "ix_benefits_day") == ["project_id", "day", "member"]
    if postgres:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(triggers).scalar() == 0
    _alembic(engine, "head")
    assert _version(engine) == HEAD
    engine.dispose()
