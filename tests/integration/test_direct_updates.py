"""A changed row is written by the unit of work itself (storage/uow.py `_write_changed`, issue 23): one
prebuilt UPDATE of the columns that changed, the row then clean, its before-image as loaded, and a
rollback of the (nested) transaction that wrote it leaves the object as the database has it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm.exc import StaleDataError

from rules.enums import Category
from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import Units
from tests.conftest import at

D = date(2026, 11, 27)
T0 = at("2026-11-27 09:00")


@pytest.fixture
def units(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    with Units(engine)() as uow:
        p = uow.projects.add(m.Project(name="阳光花园", state={}, next_open_at=T0, next_summary_at=T0))
        uow.session.add(m.Reception(project_id=p.id, day=D, member="甲", category=Category.NEW, counted_for="甲",
                                    started_at=T0, nudge_at=T0 + timedelta(hours=2)))
        uow.commit()
    yield Units(engine)
    engine.dispose()


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, stmt, *_: seen.append(" ".join(stmt.split())))
    return seen


def test_one_update_of_the_changed_columns_then_the_row_is_clean(units):
    seen = _statements(units.engine)
    with units() as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        loaded = {c.key: getattr(r, c.key) for c in m.Reception.__table__.c}
        r.ended_at, r.nudge_at, r.member = T0 + timedelta(minutes=30), None, "甲"      # (member: its own value)
        seen.clear()
        changes = uow.changes()
        updates = [s for s in seen if s.startswith("UPDATE")]
        assert len(updates) == 1 and "ended_at" in updates[0] and "nudge_at" in updates[0]
        assert "member" not in updates[0].split("WHERE")[0] and "started_at" not in updates[0]
        assert not uow.session.dirty
        [(table, row_id, image)] = changes
        assert (table, row_id) == ("receptions", r.id)
        assert image["nudge_at"] == loaded["nudge_at"].isoformat() and image["ended_at"] is None
        assert image["member"] == "甲" and image["started_at"] == loaded["started_at"].isoformat()
        assert uow.reminders.soonest_cleared == T0 + timedelta(hours=2) and not uow.reminders.sooner
        seen.clear()
        uow.commit()
        assert not [s for s in seen if s.startswith("UPDATE")]          # written once, not again at commit
    with units(readonly=True) as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        assert (r.ended_at, r.nudge_at) == (T0 + timedelta(minutes=30), None)


def test_a_column_set_to_its_own_value_writes_nothing(units):
    seen = _statements(units.engine)
    with units() as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        r.member, r.nudge_at = "甲", T0 + timedelta(hours=2)
        seen.clear()
        assert uow.changes() == []
        assert not [s for s in seen if s.startswith("UPDATE")]


def test_a_reminder_set_sooner_is_noted(units):
    with units() as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        r.nudge_at = T0 + timedelta(hours=1)
        uow.flush()
        assert uow.reminders.sooner and uow.reminders.soonest_set == T0 + timedelta(hours=1)


def test_a_rolled_back_savepoint_leaves_the_row_as_the_database_has_it(units):
    with units() as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        sp = uow.savepoint()
        r.ended_at, r.nudge_at = T0 + timedelta(minutes=30), None
        uow.flush()
        sp.rollback()
        assert (r.ended_at, r.nudge_at) == (None, T0 + timedelta(hours=2))     # (expired: read again)
        r.member = "乙"                                                         # the outer transaction goes on
        uow.commit()
    with units(readonly=True) as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        assert (r.member, r.ended_at, r.nudge_at) == ("乙", None, T0 + timedelta(hours=2))


def test_a_row_gone_meanwhile_is_stale_data_and_nothing_is_written(units):
    with units() as uow:
        r = uow.session.scalars(select(m.Reception)).one()
        uow.session.connection().execute(delete(m.Reception.__table__))       # (behind the ORM's back)
        r.ended_at = T0 + timedelta(minutes=30)
        with pytest.raises(StaleDataError):
            uow.flush()
