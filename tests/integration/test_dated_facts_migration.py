"""0012_dated_facts up and down on SQLite and PostgreSQL: the backfill finds in the change log's
before-images the registrations and lapses a database made before the table existed — the same
facts the code writes as they happen."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from storage import models as m
from storage.db import make_engine
from storage.uow import UnitOfWork
from tests.conftest import at
from tests.integration.test_history_stable import visit
from tests.integration.test_migrations import _alembic, _version


def facts(engine) -> list[tuple]:
    with UnitOfWork(engine, readonly=True) as uow:
        return sorted((f.customer_id, f.kind, f.member, f.at) for f in uow.session.scalars(select(m.Fact)))


def test_the_backfill_finds_the_facts_written_live_and_downgrade_drops_the_table(db_url, config_file):
    app = bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-02 08:00")))
    visit(app, "李四", "2026-11-02")                # registered
    visit(app, "王五", "2026-11-25")                # lapsed (李四), registered again (王五)
    app.engine.dispose()
    engine = make_engine(db_url)
    live = facts(engine)
    assert [(k, who) for _, k, who, _ in live] == [("lapsed", "李四"), ("registered", "李四"), ("registered", "王五")]

    _alembic(engine, "0009_link_guesses", command.downgrade)
    assert _version(engine) == "0009_link_guesses" and "dated_facts" not in inspect(engine).get_table_names()
    _alembic(engine, "head")
    assert facts(engine) == live
    engine.dispose()
