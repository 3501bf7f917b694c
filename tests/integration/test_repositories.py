"""storage/repos on SQLite and PostgreSQL: the one dialect insert switch, processed events, the one
place an audit row is built, and the outbox's exclusive claim."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from rules.enums import AuditKind, Role
from storage import models as m
from storage.db import make_engine, migrate
from storage.repos.audit import Entry
from storage.repos.dialect import insert_unless_taken
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    migrate(eng)
    with UnitOfWork(eng) as uow:
        uow.projects.add(m.Project(name="甲", state={}))
        uow.commit()
    yield eng
    eng.dispose()


def _pid(uow: UnitOfWork) -> int:
    return uow.projects.id_of("甲")


def test_insert_unless_taken_returns_the_new_row_then_none_for_the_same_key_on_either_dialect(engine):
    with UnitOfWork(engine) as uow:
        first = insert_unless_taken(uow.session, m.ProcessedEvent, "event_id", m.ProcessedEvent.event_id,
                                    {"event_id": "e1", "at": NOW})
        again = insert_unless_taken(uow.session, m.ProcessedEvent, "event_id", m.ProcessedEvent.event_id,
                                    {"event_id": "e1", "at": NOW + timedelta(seconds=1)})
        uow.commit()
    assert (first, again) == ("e1", None)
    with UnitOfWork(engine, readonly=True) as uow:
        assert [e.at for e in uow.session.query(m.ProcessedEvent)] == [NOW]


def test_a_delivery_is_claimed_once_and_only_ids_older_than_the_cutoff_are_forgotten(engine):
    with UnitOfWork(engine) as uow:
        assert uow.events.claim("old", NOW - timedelta(days=40)) is True
        assert uow.events.claim("new", NOW) is True
        assert uow.events.claim("new", NOW) is False
        uow.events.forget_before(NOW - timedelta(days=30))
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.events.claim("old", NOW) is True          # forgotten: it would run again
        assert uow.events.claim("new", NOW) is False


def test_an_audit_row_is_dated_by_the_local_day_of_its_time_not_the_utc_day(engine):
    local = datetime(2026, 11, 28, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))     # 2026-11-27 16:30 UTC
    with UnitOfWork(engine) as uow:
        uow.audit.record(_pid(uow), local, Entry("系统", "（定时）", ["开班"], AuditKind.SYSTEM, {"day": {}}))
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        rows = uow.audit.of_day(_pid(uow), date(2026, 11, 28))
        assert [(a.day, a.kind, a.actor, a.reasons, a.undo) for a in rows] == [
            (date(2026, 11, 28), "system", "系统", ["开班"], {"day": {}})]
        assert uow.audit.of_day(_pid(uow), date(2026, 11, 27)) == []
        assert uow.audit.last_at("甲") == local


def test_two_processes_taking_the_same_outbox_row_only_one_gets_it(engine):
    with UnitOfWork(engine) as uow:
        assert uow.outbox.add({"key": "k1", "project_id": _pid(uow), "text": "hi", "mentions": [], "due_at": NOW,
                                  "created_at": NOW, "claimed_at": NOW, "claimed_by": "a", "attempts": 1})
        assert not uow.outbox.add({"key": "k1", "project_id": _pid(uow), "text": "again", "mentions": [],
                                      "due_at": NOW, "created_at": NOW, "claimed_at": NOW, "claimed_by": "b"})
        uow.commit()
    later, lease = NOW + timedelta(minutes=10), timedelta(minutes=5)
    with UnitOfWork(engine, readonly=True) as uow:            # both processes saw the row due …
        [(row, pname)] = uow.outbox.due_again(later, lease, 10)
        assert (row.text, row.attempts, pname) == ("hi", 1, "甲")
        seen = SimpleNamespace(id=row.id, attempts=row.attempts)
    for worker, taken in (("a", True), ("b", False)):         # … the first to take it wins
        with UnitOfWork(engine) as uow:
            assert uow.outbox.take(seen, later, worker, later + lease) is taken
            uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.outbox.due_again(later, lease, 10) == []   # leased again until later + lease
        [(again, _)] = uow.outbox.due_again(later + lease, lease, 10)
        assert (again.claimed_by, again.attempts) == ("a", 2)


def test_managers_by_position_follow_the_roster_order_and_skip_inactive_and_salespeople(engine):
    with UnitOfWork(engine) as uow:
        pid = _pid(uow)
        for name, role, pos, active in [("丙", Role.MANAGER, 3, True), ("甲", Role.BOTH, 1, True),
                                        ("乙", Role.SALES, 2, True), ("丁", Role.MANAGER, 0, False)]:
            uow.members.add(m.Member(project_id=pid, name=name, role=role, position=pos, active=active))
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        assert uow.members.manager_names(_pid(uow), by_position=True) == ["甲", "丙"]
        assert sorted(uow.members.manager_names(_pid(uow))) == ["丙", "甲"]
