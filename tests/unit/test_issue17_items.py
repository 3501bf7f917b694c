"""Issue 17 items 18–20: a repeated appeal, /记录's cap, /批准's 下一位, an undone big order,
one reminder per owner, and the report's per-member reception figures."""
from __future__ import annotations

from datetime import date

import pytest

from handlers.reports import Report, Row, summary_text
from storage import models as m
from tests.conftest import at
from tests.unit.group import Office


@pytest.fixture
def office(config_file):
    return Office(config_file(), since="2026-11-20 08:00")


def test_the_reports_member_lines_read_receptions_as_the_total_line_does():
    rep = Report("阳光花园", date(2026, 11, 21), date(2026, 11, 27),
                 (Row("李四", counted=21, uncounted=8, registrations=3, deals=1.0),), ())
    text = summary_text(rep, "周报")
    assert "合计：接待 29（计名次 21）" in text
    assert "李四：接待 29（计名次 21），登记 3" in text


def test_the_same_appeal_sent_again_is_answered_as_filed_and_tells_nobody_again(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "成交 张三 13812345678 1套", "2026-11-27 09:40")
    first = office.say("王五", "申诉 13812345678 我先接待的", "2026-11-27 09:45")
    assert [t.to for t in first.tells] == ["张经理"]
    again = office.say("王五", "申诉 13812345678 我先接待的", "2026-11-27 09:46")
    assert not again.refused and again.tells == ()
    assert again.text == "你对 张三 的申诉已提交过，经理已收到，不再重复通知（申诉期至 12-04）。"
    assert sum(isinstance(r, m.Appeal) for r in office.uow.deals.rows) == 1
    other = office.say("赵六", "申诉 13812345678 我也接待过", "2026-11-27 09:47")
    assert [t.to for t in other.tells] == ["张经理"]


def test_after_approval_the_next_up_line_names_the_approved_member(office):
    office.say("张经理", "/开班 李四", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    said = office.say("张经理", "/批准 李四", "2026-11-27 09:10")
    assert said.text == "已批准 李四 再接待一位新客户。\n下一位:李四"
    assert not office.say("李四", "到访 刘一 13900001111", "2026-11-27 09:12").refused


def _log_lines(office, n):
    from rules.enums import AuditKind
    from storage.repos.audit import Entry
    for i in range(n):
        office.uow.audit.record(office.project.id, at(f"2026-11-27 09:{i % 60:02d}"),
                                Entry("李四", f"跟进 {i}", [f"第{i}条"], AuditKind.CMD, None))


def test_the_log_says_how_many_earlier_lines_it_leaves_out_and_sends_the_whole_day_privately(office):
    office.due("2026-11-27 09:00")          # the scheduler's opening is the day's first line
    _log_lines(office, 45)
    said = office.say("张经理", "/记录", "2026-11-27 10:00")
    lines = said.text.splitlines()
    assert lines[1] == "（另有更早的 6 条未显示，发 /记录 全部，私信查看全天记录）"
    assert len(lines) == 42 and lines[2].endswith("第5条") and not said.private
    whole = office.say("张经理", "/记录 全部", "2026-11-27 10:01")
    assert whole.private and len(whole.text.splitlines()) == 47 and "另有" not in whole.text
    short = office.say("张经理", "/记录 李四", "2026-11-27 10:02")
    assert "另有更早的 6 条" in short.text


def test_a_short_log_has_no_more_line(office):
    office.due("2026-11-27 09:00")
    _log_lines(office, 3)
    said = office.say("张经理", "/记录", "2026-11-27 10:00")
    assert len(said.text.splitlines()) == 5 and "另有" not in said.text


def _five_customers(office):
    office.say("张经理", "/开班 李四", "2026-11-20 09:00")
    for i, name in enumerate(["陈一", "周二", "吴三", "郑四", "冯五"]):
        assert not office.say("李四", f"到访 {name} 1380000000{i}", f"2026-11-20 09:{i}1").refused
        office.say("李四", "送客", f"2026-11-20 09:{i}2")


def test_reminders_due_together_for_one_owner_come_as_one_message_once(office):
    _five_customers(office)
    out = [o for o in office.due("2026-11-26 09:00") if o.to == "李四"]
    assert len(out) == 1 and out[0].text.startswith("提醒：你的 5 位客户的归属明天 24:00 到期")
    assert all(f"138****000{i}" in out[0].text for i in range(5))
    assert [o for o in office.due("2026-11-26 12:00") if o.to == "李四"] == []
    last = [o for o in office.due("2026-11-27 09:00") if o.to == "李四"]
    assert len(last) == 1 and "归属今天" in last[0].text and last[0].key != out[0].key


def test_reminders_beyond_one_steps_limit_come_in_a_second_message_not_lost(office, monkeypatch):
    from tests.unit import fakes
    _five_customers(office)
    real = fakes.FakeCustomers.take_due
    monkeypatch.setattr(fakes.FakeCustomers, "take_due", lambda self, pid, now, limit=500: real(self, pid, now, 3))
    out = [o for o in office.due("2026-11-26 09:00") if o.to == "李四"]
    assert len(out) == 2 and len({o.key for o in out}) == 2                 # 3 customers, then 2
    assert sorted(sum(f"138****000{i}" in o.text for o in out) for i in range(5)) == [1] * 5


def test_lapse_notices_due_together_come_as_one_message_to_the_owner_and_to_each_manager(office):
    _five_customers(office)
    out = [o for o in office.due("2026-11-28 12:00") if "公客" in o.text]
    assert sorted(o.to for o in out) == ["张经理", "李四"]
    assert all("5 位已超过 7 天未跟进" in o.text for o in out)
