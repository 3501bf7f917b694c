"""The set-based sweep on SQLite and PostgreSQL (issue 23 item 2): every project's next due time in one
statement, reminders taken with one UPDATE … RETURNING and moved on in one batch, the messages of a
step written in one INSERT, and two processes sweeping at once sending each reminder once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.outbox import Outbox
from bot.scheduled import Scheduled
from handlers.messages import Incoming, Outgoing
from rules.enums import CustomerStatus, MessageKind
from storage import models as m
from storage.db import make_engine, migrate
from storage.repos.customers import Rescheduled
from storage.uow import UnitOfWork, Units
from tests.conftest import at

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
P = "阳光花园"


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


def _project(uow: UnitOfWork, name: str, opens: datetime | None, summary: datetime | None) -> int:
    return uow.projects.add(m.Project(name=name, state={}, next_open_at=opens, next_summary_at=summary)).id


def _customer(pid: int, phone: str, due: datetime | None, stage: int = 0) -> m.Customer:
    return m.Customer(project_id=pid, name="客" + phone[-2:], phone=phone, owner="李四", status=CustomerStatus.ACTIVE,
                      registered_by="李四", registered_at=NOW - timedelta(days=6), valid_until=NOW + timedelta(days=1),
                      due_at=due, due_stage=stage)


def _reception(pid: int, nudge: datetime | None) -> m.Reception:
    return m.Reception(project_id=pid, day=NOW.date(), member="王五", category="new", started_at=NOW,
                       nudge_at=nudge)


def test_every_project_s_next_due_time_comes_from_one_statement(engine):
    with UnitOfWork(engine) as uow:
        a = _project(uow, "甲", NOW + timedelta(hours=5), NOW + timedelta(hours=9))    # its schedule only
        b = _project(uow, "乙", NOW + timedelta(hours=5), None)
        _project(uow, "丙", None, None)                                                # nothing at all
        d = _project(uow, "丁", None, NOW + timedelta(hours=9))
        uow.session.add_all([_customer(b, "13800000001", NOW + timedelta(hours=3)),
                             _customer(b, "13800000002", NOW + timedelta(hours=1)),
                             _customer(b, "13800000003", None),
                             _customer(a, "13800000004", None),
                             _reception(d, NOW + timedelta(minutes=20)), _reception(d, None),
                             _reception(b, NOW + timedelta(hours=2))])
        uow.commit()
    sched = Scheduled(Units(engine), {}, "test")
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    due = {name: known.at for name, known in sched.due_times().items()}
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert due == {"甲": NOW + timedelta(hours=5), "乙": NOW + timedelta(hours=1), "丙": None,
                   "丁": NOW + timedelta(minutes=20)}
    assert {n: sched.first_due(n) for n in due} == due          # the same as each project's own probe


def test_due_reminders_are_taken_once_and_moved_on_in_one_batch(engine):
    with UnitOfWork(engine) as uow:
        pid = _project(uow, "甲", None, None)
        rows = [_customer(pid, f"138000000{i:02d}", NOW - timedelta(minutes=i % 2)) for i in range(4)]
        later = _customer(pid, "13800000099", NOW + timedelta(minutes=1))
        uow.session.add_all([*rows, later])
        uow.commit()
        ids = [r.id for r in rows]
    with UnitOfWork(engine) as uow:
        loaded = uow.customers.get(ids[0])                  # an object the session holds already
        assert loaded is not None and loaded.due_at is not None
        taken = uow.customers.take_due(pid, NOW)
        assert [r.id for r in taken] == ids and all(r.due_stage == 0 for r in taken)
        assert uow.customers.take_due(pid, NOW) == []       # taken: due no more
        assert loaded.due_at is None                         # the session does not keep the old due time
        uow.customers.reschedule([Rescheduled(ids[1], NOW + timedelta(days=1), 2, None),
                                  Rescheduled(ids[2], None, 3, NOW + timedelta(hours=7))])
        uow.commit()
    with UnitOfWork(engine, readonly=True) as uow:
        got = {c.id: (c.due_at, c.due_stage, c.lapse_due_at) for c in uow.customers.of_project(pid)}
    assert got[ids[0]] == (None, 0, None) and got[ids[1]] == (NOW + timedelta(days=1), 2, None)
    assert got[ids[2]] == (None, 3, NOW + timedelta(hours=7))
    assert got[later.id] == (NOW + timedelta(minutes=1), 0, None)


def test_a_step_s_messages_are_written_in_one_statement_each_key_once(engine):
    outbox = Outbox(Units(engine), "w1", {})
    msgs = [Outgoing(f"m{i}", to="李四", key=k, project=None, kind=MessageKind.REMINDER)
            for i, k in enumerate(["k1", "k2", "k1", "k3"])]
    with UnitOfWork(engine) as uow:
        assert [o.text for o in outbox.claim_many(uow, msgs[:1], None, NOW)] == ["m0"]
        uow.commit()
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with UnitOfWork(engine) as uow:
        written = outbox.claim_many(uow, msgs, None, NOW)
        uow.commit()
    assert [o.text for o in written] == ["m1", "m3"]        # k1 was taken; a repeated key is written once
    assert len([s for s in seen if "INSERT INTO outbox" in s]) == 1
    with UnitOfWork(engine, readonly=True) as uow:
        assert sorted(uow.session.scalars(select(m.Outbox.text))) == ["m0", "m1", "m3"]


def _seed(app) -> None:
    def say(who: str, text: str, when: str) -> None:
        assert app.handle(Incoming("console", who, text, at(when), project=P))
    say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    for i in range(6):
        who = "李四" if i % 2 == 0 else "王五"
        say(who, f"到访 王{chr(0x4e00 + i)}明 1380000{i:04d}", f"2026-11-20 09:{10 + i:02d}")
        say(who, "送客", f"2026-11-20 09:{10 + i:02d}")


def test_two_processes_sweeping_at_once_send_each_reminder_once(db_url, config_file):
    apps = [bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-20 08:00"))) for _ in range(2)]
    _seed(apps[0])
    apps[0].run_due(at("2026-11-25 23:00"))          # the days before: nothing of this test's
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda app: app.run_due(at("2026-11-26 09:00")), apps))
    reminders = [o for out in outs for o in out if o.kind == MessageKind.REMINDER]
    assert sorted(o.to or "" for o in reminders) == ["李四", "王五"]       # one per owner, from either process
    text = "\n".join(o.text for o in reminders)
    assert all(text.count(f"1380000{i:04d}") == 1 for i in range(6)), text   # (full in the 跟进 hint)
    # the same work item run again (its due times put back, as an undo would): the outbox holds its key
    with UnitOfWork(apps[1].engine) as uow:
        for c in uow.customers.of_project(uow.projects.id_of(P) or 0):
            c.due_at, c.due_stage = at("2026-11-26 09:00"), 0
        uow.commit()
    assert [o for o in apps[1].run_due(at("2026-11-26 09:01")) if o.kind == MessageKind.REMINDER] == []
    for app in apps:
        app.engine.dispose()
