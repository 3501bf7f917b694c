"""Scheduled jobs return `Reply` objects, each with its kind, its work-item key and its addressee (issue 18
item 3): the bus logs, masks and stores them as it does a command's answer (bot/pipeline.py), and
nothing parses a key to learn what a message is."""
from __future__ import annotations

import pytest

from bot import pipeline
from handlers.jobs import due_jobs
from handlers.reply import Reply
from rules import texts as T
from rules.enums import MessageKind
from tests.conftest import at
from tests.unit.group import Office


@pytest.fixture
def office(config_file):
    return Office(config_file(), since="2026-11-20 08:00")


def _jobs(office: Office, when: str) -> list[Reply]:
    """The jobs due by `when`, run once at that time, as Reply objects."""
    with office.uow:
        ctx = office.ctx(when, T.SYSTEM_ACTOR)
        replies = due_jobs(ctx)
        office.project.state = ctx.saved_day()
        office.uow.commit()
    return replies


def _two_customers(office: Office) -> None:
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 陈一 13800000001", "2026-11-20 09:10")
    office.say("李四", "送客", "2026-11-20 09:11")
    office.say("王五", "到访 周二 13800000002", "2026-11-20 09:12")
    office.say("王五", "送客", "2026-11-20 09:13")


def test_the_day_s_opening_is_a_group_reply_of_kind_greeting_under_its_work_item_key(office):
    [greeting] = _jobs(office, "2026-11-20 09:00")
    assert isinstance(greeting, Reply)
    assert greeting.kind == MessageKind.GREETING and greeting.to is None
    assert greeting.key == f"open:{office.project.id}:2026-11-20"
    assert greeting.text.startswith("早上好！11-20 开班。")


def test_a_reminder_is_a_private_reply_of_kind_reminder_to_the_owner_written_for_the_owner(office):
    _two_customers(office)
    office.due("2026-11-26 08:59")
    replies = _jobs(office, "2026-11-26 09:00")
    reminders = [r for r in replies if r.kind == MessageKind.REMINDER]
    assert [r.to for r in reminders] == ["李四", "王五"]            # the customers' order
    assert all(r.full_phones for r in reminders)
    assert "13800000001" in reminders[0].text and "13800000002" in reminders[1].text
    assert reminders[0].key is not None and reminders[0].key.startswith(f"remind:{office.project.id}:李四:20261126:")
    assert {r.kind for r in replies} == {MessageKind.GREETING, MessageKind.REMINDER}


def test_a_lapse_notice_goes_to_the_owner_and_each_manager_under_a_key_of_its_own(office):
    _two_customers(office)
    office.due("2026-11-28 08:59")
    lapses = [r for r in _jobs(office, "2026-11-28 09:00") if r.kind == MessageKind.LAPSE]
    assert sorted(r.to or "" for r in lapses) == ["张经理", "张经理", "李四", "王五"]
    assert len({r.key for r in lapses}) == 4


def test_a_job_s_group_message_is_masked_and_its_private_one_left_as_written_for_its_reader():
    t = at("2026-11-26 09:00")
    group = pipeline.job_outgoing(Reply("陈一 13800000001", kind=MessageKind.SUMMARY, key="k1"), "甲", t)
    mine = pipeline.job_outgoing(Reply("陈一 13800000001", full_phones=True, kind=MessageKind.REMINDER,
                                       key="k2", to="李四"), "甲", t)
    other = pipeline.job_outgoing(Reply("陈一 13800000001", kind=MessageKind.NUDGE, key="k3", to="李四"), "甲", t)
    assert group.text == "陈一 138****0001" and group.to is None and group.kind == MessageKind.SUMMARY
    assert mine.text == "陈一 13800000001" and mine.to == "李四" and mine.at == t and mine.key == "k2"
    assert other.text == "陈一 138****0001"


def test_the_scheduler_writes_each_job_reply_once_under_its_key_as_the_bus_writes_a_command_s(office):
    _two_customers(office)
    out = office.due("2026-11-26 09:00")
    assert [o.kind for o in out if o.to is not None] == [MessageKind.REMINDER] * 2
    assert all(o.key in office.uow.outbox.rows for o in out)
    with office.uow:             # the same work item run again (its due time put back): not written twice
        for c in office.uow.customers.rows:
            c.due_at, c.due_stage = at("2026-11-26 09:00"), 0
        office.app.scheduled.forget(office.project.name)       # (its kept next due time is after 09:00)
        again, _ = office.app.scheduled.due_before(office.uow, office.project, at("2026-11-26 09:00"))
        office.uow.commit()
    assert [o for o in again if o.kind == MessageKind.REMINDER] == []
