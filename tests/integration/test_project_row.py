"""The locked project's row (storage/repos/projects.py ProjectRow, issue 23): read with one SELECT of its
columns, written back by save_state in one UPDATE of what changed since — nothing when nothing did."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import Units
from tests.conftest import at

T0 = at("2026-11-27 09:00")


def test_save_writes_what_changed_in_one_update_and_nothing_when_nothing_did(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    units = Units(engine)
    with units() as uow:
        uow.projects.add(m.Project(name="阳光花园", state={"date": None}, next_open_at=T0, next_summary_at=T0))
        uow.commit()
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, stmt, *_: seen.append(" ".join(stmt.split())))
    with units() as uow:
        row = uow.lock_project("阳光花园")
        assert row is not None and (row.state, row.next_open_at, row.due_version) == ({"date": None}, T0, 0)
        seen.clear()
        uow.projects.save_state(row, {"date": None})
        assert not [s for s in seen if s.startswith("UPDATE")]                  # nothing changed: no statement
        row.next_open_at = T0 + timedelta(days=1)                              # (as the opening job does)
        uow.projects.save_state(row, {"date": "2026-11-27"}, sooner=True)
        [stmt] = [s for s in seen if s.startswith("UPDATE")]
        assert all(c in stmt for c in ("state", "next_open_at", "due_version")) and "next_summary_at" not in stmt
        seen.clear()
        uow.projects.save_state(row, {"date": "2026-11-27"})                   # as written: nothing again
        assert not [s for s in seen if s.startswith("UPDATE")]
        uow.commit()
    with units(readonly=True) as uow:
        p = uow.session.scalars(select(m.Project)).one()
        assert (p.state, p.next_open_at, p.next_summary_at, p.due_version) == (
            {"date": "2026-11-27"}, T0 + timedelta(days=1), T0, 1)
        assert uow.lock_project("没有这个") is None
    engine.dispose()
