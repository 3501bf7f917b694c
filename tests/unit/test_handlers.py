"""Handlers and scheduled jobs on fakes (issue 12): the real parser, handler table and jobs, no database.

Moved from tests/integration/test_core_flows.py and test_jobs.py; what needs a database (locking,
redelivery, the outbox, /撤销's before-images, masking by the bus) stays there."""
from __future__ import annotations

import re

import pytest

from storage import models as m
from tests.conftest import at
from tests.unit.group import Office, Said


@pytest.fixture
def office(config_file):
    return Office(config_file(), since="2026-11-20 08:00")


def texts(msgs, to=None):
    return [(f"{o.at.astimezone(at('2026-11-27 00:00').tzinfo):%m-%d %H:%M}" if o.at else "", o.text)
            for o in msgs if o.to == to]


# ---- refusals ------------------------------------------------------------------------------
BAD_INPUT = [
    ("李四", "到访 先生 13812345678"),          # placeholder name
    ("李四", "到访 张三 1381234567"),           # 10 digits
    ("王五", "到访 刘一 13900001111"),          # not the next-up
    ("李四", "/跳过 王五"),                      # not a manager
    ("张经理", "/跳过 孙悟空"),                  # not on the roster
    ("张经理", "/顺序 李四 王五"),               # not all members
    ("李四", "送客"),                           # nothing to end
    ("李四", "跟进 13899998888 电话"),          # unknown customer
    ("李四", "非客 外星人"),                     # unknown kind
    ("李四", "申诉 13812345678 理由"),          # no deal
    ("张经理", "/核实 13812345678 同一人"),      # not pending
    ("李四", "成交 张三 12812345678 1套"),       # invalid phone
    ("张经理", "/导出 2026-13-01"),               # bad date
    ("钱七", "外出 送合同"),                     # not signed in (absent)
    ("张经理", "/开班"),                          # already open
]


def test_bad_input_gets_a_clear_refusal_and_changes_nothing(office):
    office.say("张经理", "/开班 李四 王五 赵六", "2026-11-27 09:00")
    before = office.state()
    for who, text in BAD_INPUT:
        said = office.say(who, text, "2026-11-27 09:10")
        assert said.refused, (text, said.text)
        assert said.text and "Traceback" not in said.text and "下一位" not in said.text, (text, said.text)
        assert re.search(r"[\u4e00-\u9fff]", said.text), said.text
    assert office.state() == before


# ---- the rotation ----------------------------------------------------------------------------
def test_a_member_who_leaves_and_comes_back_the_same_day_keeps_the_count(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "送客", "2026-11-27 09:30")
    office.say("李四", "请假", "2026-11-27 09:40")
    office.say("李四", "签到", "2026-11-27 10:00")
    assert office.queue()[-1] == {"name": "李四", "presence": "available", "counted": 1, "makeup": False}
    office.say("李四", "签退", "2026-11-27 11:00")
    office.say("张经理", "/开班 王五 李四", "2026-11-27 11:05")
    assert [q["counted"] for q in office.queue()] == [0, 1]


def test_receptions_left_open_overnight_are_closed_at_the_next_opening(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.due("2026-11-28 09:00")
    office.say("李四", "签到", "2026-11-28 09:01")
    assert "没有接待中的客户" in office.say("李四", "送客", "2026-11-28 09:02").text


def test_the_next_up_who_registers_a_new_customer_owns_it_for_seven_days_and_goes_to_the_back(office):
    office.say("张经理", "/开班 李四 王五 赵六", "2026-11-27 09:00")
    said = office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    assert said.text == ("李四 报到访：张三（138****5678），新客户。\n"
                         "登记有效，归属 李四，有效期至 12-04。\n下一位:王五")
    assert [(q["name"], q["presence"], q["counted"]) for q in office.queue()] == [
        ("王五", "available", 0), ("赵六", "available", 0), ("李四", "busy", 1)]
    [row] = office.uow.customers.rows
    assert (row.owner, row.valid_until) == ("李四", at("2026-12-04 23:59").replace(second=59))
    assert office.say("李四", "送客", "2026-11-27 09:30").text == "李四 送客，已在岗。\n下一位:王五"
    assert office.queue()[-1]["presence"] == "available"


def test_stepping_out_skips_the_turn_and_coming_back_takes_it_again(office):
    office.say("张经理", "/开班 李四 王五 赵六", "2026-11-27 09:00")
    office.say("李四", "接待", "2026-11-27 09:05")
    assert office.say("王五", "暂离", "2026-11-27 09:06").text == "王五 暂离，轮到时跳过。\n下一位:赵六"
    assert office.say("王五", "回来", "2026-11-27 09:10").text == "王五 回来了。\n下一位:王五"


def test_away_on_business_keeps_the_place_and_the_turn_waits_for_the_return(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    assert office.say("李四", "外出 送合同", "2026-11-27 09:01").text == "李四 因公外出，保留位置（送合同）。\n下一位:王五"
    office.say("王五", "接待", "2026-11-27 09:02")
    assert office.say("李四", "回来", "2026-11-27 09:30").text == "李四 回来了。\n下一位:李四"
    assert [q["name"] for q in office.queue()] == ["李四", "王五"]


def test_a_member_busy_with_a_customer_can_neither_go_out_nor_come_back_and_nothing_changes(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    before = office.state()
    assert office.say("李四", "外出 看房", "2026-11-27 09:10") == Said("李四 正在接待中，请先 送客。", refused=True)
    assert office.say("李四", "回来", "2026-11-27 09:11") == Said("李四 正在接待中，送客后自动在岗。", refused=True)
    assert office.state() == before


def test_an_owners_own_customer_coming_back_is_received_uncounted_and_the_turn_stays(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-26 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-26 09:05")
    office.say("李四", "送客", "2026-11-26 09:30")
    office.say("张经理", "/开班 王五 李四", "2026-11-27 09:00")
    said = office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    assert said.text == "李四 报到访：张三（138****5678），未成交老客户回访。\n下一位:王五"
    assert [(q["name"], q["presence"], q["counted"]) for q in office.queue()] == [
        ("王五", "available", 0), ("李四", "busy", 0)]


def test_a_follow_up_by_name_finds_only_the_members_own_customers(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    before = office.state()
    said = office.say("王五", "跟进 张三 电话", "2026-11-27 09:06")
    assert said == Said("你名下没有叫「张三」的客户，请用：跟进 手机 内容。", refused=True)
    assert office.state() == before


def test_a_colleagues_customer_goes_to_the_owner_uncounted_and_the_reporter_keeps_the_turn(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "送客", "2026-11-27 09:30")
    said = office.say("王五", "到访 张三 13812345678", "2026-11-27 10:00")
    assert said.text == ("王五 报到访：张三（138****5678），同事老客户。\n"
                         "张三 是 李四 的客户，请 李四 接待（不计名次）。\n下一位:王五")
    assert [(q["name"], q["presence"], q["counted"]) for q in office.queue()] == [
        ("王五", "available", 0), ("李四", "busy", 1)]


def test_a_new_customer_brought_by_an_old_one_belongs_to_the_old_customers_owner(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "送客", "2026-11-27 09:30")
    said = office.say("王五", "到访 刘一 13900001111 带访 13812345678", "2026-11-27 10:00")
    assert "未成交老客户带新客户" in said.text and "刘一 是 李四 的客户，请 李四 接待（不计名次）" in said.text
    assert [(c.name, c.owner) for c in office.uow.customers.rows] == [("张三", "李四"), ("刘一", "李四")]


def test_a_follow_up_renews_the_ownership_for_seven_days_from_that_day(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 09:05")
    said = office.say("李四", "跟进 张三 约了周末", "2026-11-26 10:00")
    assert said.text == "已记录 李四 对 张三（138****5678）的跟进，归属有效期至 12-03 24:00。"
    [row] = office.uow.customers.rows
    assert row.valid_until.date().isoformat() == "2026-12-03" and row.owner == "李四"


def test_a_deal_by_the_owner_credits_the_owner_in_full_and_ends_the_tracking(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    said = office.say("李四", "成交 张三 13812345678 2套", "2026-11-27 10:00")
    assert said.text == "成交登记：张三（138****5678）2套，业绩 李四 100%。"
    [deal] = office.uow.deals.rows
    assert (deal.units, deal.shares, deal.day.isoformat()) == (2, {"李四": 1.0}, "2026-11-27")
    assert office.uow.customers.rows[0].valid_until is None


def test_a_lookup_by_the_last_four_digits_or_the_masked_phone_shows_the_customer_masked(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    want = "张三（138****5678）：跟踪中，归属 李四，有效期至 12-04 24:00"
    assert office.say("王五", "查客 5678", "2026-11-27 09:06").text == want
    assert office.say("王五", "查客 138****5678", "2026-11-27 09:07").text == want


def test_an_appeal_against_a_colleagues_deal_is_filed_for_the_managers(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "成交 张三 13812345678 1套", "2026-11-27 09:40")
    said = office.say("王五", "申诉 13812345678 我先接待的", "2026-11-27 09:45")
    assert said.text == "申诉已提交给经理（申诉期至 12-04）。"
    [deal, appeal] = office.uow.deals.rows
    assert isinstance(appeal, m.Appeal) and (appeal.deal_id, appeal.by, appeal.reason) == (deal.id, "王五", "我先接待的")


# ---- the day opens and closes ----------------------------------------------------------------
def test_the_day_opens_at_shift_start_once_with_those_who_signed_in(office):
    office.say("李四", "签到", "2026-11-20 08:40")
    opens = [t for _, t in texts(office.due("2026-11-20 09:30")) if "开班" in t]
    assert len(opens) == 1 and "李四 → 王五（未到）" in opens[0] and opens[0].endswith("下一位:李四")
    assert office.due("2026-11-20 09:31") == []


def test_a_day_opened_early_by_the_manager_is_not_opened_again(office):
    office.say("张经理", "/开班 王五 李四", "2026-11-20 08:50")
    assert not [t for _, t in texts(office.due("2026-11-20 09:00")) if "开班" in t]
    assert [q["name"] for q in office.queue()] == ["王五", "李四"]


def test_a_day_the_manager_opened_is_not_announced_again(office):
    office.say("张经理", "/开班", "2026-11-20 08:50")
    assert not [t for _, t in texts(office.due("2026-11-20 09:30")) if "开班" in t]


def test_the_daily_summary_at_shift_end_counts_receptions_deals_and_tomorrows_lapses(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 陈一 13800000001", "2026-11-20 09:05")     # lapses 11-27 24:00
    office.say("李四", "送客", "2026-11-20 09:30")
    office.say("张经理", "/开班 李四 王五", "2026-11-26 09:00")
    office.say("李四", "接待", "2026-11-26 09:05")
    office.say("李四", "非客 装修", "2026-11-26 09:06")
    office.say("王五", "到访 张三 13812345678", "2026-11-26 09:10")
    office.say("王五", "成交 张三 13812345678 2套", "2026-11-26 10:00")
    summary = [t for when, t in texts(office.due("2026-11-26 18:00")) if when == "11-26 18:00"]
    assert len(summary) == 1
    assert "李四 计0/不计1" in summary[0] and "王五 计1/不计0" in summary[0]
    assert "张三（138****5678）2套 王五 100%" in summary[0] and "明天到期：陈一（李四）" in summary[0]


# ---- reminders, lapses and nudges ----------------------------------------------------------------
def test_reminders_come_the_day_before_and_on_the_last_day_and_move_with_a_follow_up(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    assert texts(office.due("2026-11-26 08:59"), "李四") == []
    assert [w for w, t in texts(office.due("2026-11-26 09:00"), "李四")] == ["11-26 09:00"]
    office.say("李四", "跟进 13812345678 约了周末", "2026-11-26 10:00")   # now valid through 12-03
    out = office.due("2026-12-02 12:00") + office.due("2026-12-03 12:00")
    assert [w for w, t in texts(out, "李四")] == ["12-02 09:00", "12-03 09:00"]


def test_the_lapse_notice_goes_to_owner_and_managers_next_morning_not_at_midnight(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    lapse = [(o.to, o.at) for o in office.due("2026-11-28 12:00") if "公客" in o.text]
    assert sorted(to for to, _ in lapse) == ["张经理", "李四"]
    assert all(t == at("2026-11-28 09:00") for _, t in lapse)
    ctx = office.ctx("2026-11-28 00:00")
    [row] = office.uow.customers.rows
    assert ctx.domain(row).effective_status(ctx.now) == "lapsed"


def test_a_customer_with_a_deal_gets_no_reminders(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 09:05")
    office.say("李四", "成交 张三 13812345678", "2026-11-20 10:00")
    office.say("李四", "送客", "2026-11-20 10:30")
    assert texts(office.due("2026-12-10 12:00"), "李四") == []


def test_a_reception_left_open_gets_one_nudge_and_frees_the_turn(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    assert office.queue()[1]["presence"] == "busy"
    nudges = [(w, t) for w, t in texts(office.due("2026-11-27 11:10"), "李四") if "送客" in t]
    assert [w for w, _ in nudges] == ["11-27 11:05"]
    assert office.queue()[1]["presence"] == "available"
    assert texts(office.due("2026-11-27 15:00"), "李四") == []


def test_nothing_is_pushed_inside_quiet_hours(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 17:30")
    nudged = office.due("2026-11-20 20:00")
    for o in nudged + office.due("2026-11-30 12:00"):
        t = o.at.astimezone(at("2026-11-27 00:00").tzinfo).time()
        assert not (t.hour >= 21 or (t.hour, t.minute) < (8, 30)), (o.at, o.text)
    assert any("送客" in o.text and o.to == "李四" for o in nudged)     # the nudge came, in the daytime


def test_a_nudge_for_a_reception_the_next_opening_closes_is_dropped(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 17:55")     # 120 minutes later: 19:55
    office.say("王五", "到访 刘一 13900001111", "2026-11-20 19:30")     # nudge due 21:30: quiet
    out = office.due("2026-11-20 20:00") + office.due("2026-11-21 12:00")   # the bot runs through the evening
    nudges = [(when, t[:6]) for who in ("李四", "王五") for when, t in texts(out, to=who)]
    assert nudges == [("11-20 19:55", "你的接待已超")]


# ---- shifts near the quiet hours ---------------------------------------------------------------
SHIFT = """
timezone: Asia/Shanghai
projects:
  - name: 阳光花园
    shift: {start: "%s", end: "%s"}
    managers: [张经理]
    salespeople: [李四, 王五]
"""


def test_a_shift_starting_inside_quiet_hours_opens_on_time_and_is_announced_when_they_end(config_file):
    office = Office(config_file("early", SHIFT % ("08:00", "18:00")), since="2026-11-20 07:00")
    office.say("李四", "签到", "2026-11-20 07:50")
    assert [o for o in office.due("2026-11-20 08:10") if o.to is None] == []
    assert office.ctx("2026-11-20 08:10").day.next_up() == "李四"          # open (silently) since 08:00
    opens = [(w, t) for w, t in texts(office.due("2026-11-20 08:40")) if "开班" in t]
    assert [w for w, _ in opens] == ["11-20 08:30"]
    assert texts(office.due("2026-11-20 12:00")) == []


@pytest.mark.parametrize("start, end", [("09:00", "21:00"), ("08:00", "21:30")])
def test_a_summary_due_inside_the_quiet_hours_comes_at_their_end_once_a_day_titled_with_its_day(
        config_file, start, end):
    office = Office(config_file(text=SHIFT % (start, end)), since="2026-11-20 07:00")
    out = []
    for d in range(20, 24):                          # step through four days, an hour at a time
        for h in range(24):
            out += office.due(f"2026-11-{d} {h:02d}:45")
    got = [(when, t.splitlines()[0]) for when, t in texts(out) if "日报" in t]
    assert got == [(f"11-{d + 1} 08:30", f"【11-{d} 日报】阳光花园") for d in range(20, 23)]


# ---- the fakes themselves ------------------------------------------------------------------------
def test_a_unit_of_work_left_without_commit_puts_every_row_back(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    before = office.state()
    with office.uow as uow:
        row = uow.customers.rows[0]
        row.owner, row.other_names = "王五", ["张小三"]
        uow.customers.add(type(row)(project_id=office.project.id, phone="13900001111", name="刘一"))
        office.project.state = {}
    assert office.state() == before


# ---- how the answer goes out (through the bus) ---------------------------------------------------------
def test_my_customers_is_answered_privately_with_the_owners_full_numbers(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    mine = office.say("李四", "我的客户", "2026-11-27 09:06")
    assert mine.private and "张三（13812345678）" in mine.text      # the owner's own: full numbers
    theirs = office.say("王五", "我的客户", "2026-11-27 09:07")
    assert theirs.private and "1381234" not in theirs.text


def test_a_big_deal_tells_each_manager_privately_with_the_full_phone(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    said = office.say("李四", "成交 张三 13812345678 3套", "2026-11-27 09:08")
    assert said.text == "成交登记：张三（138****5678）3套，业绩 李四 100%。" and not said.private
    assert [(t.to, t.text) for t in said.tells] == [
        ("张经理", "大单提醒：李四 成交 张三（13812345678）3套，业绩 李四 100%。")]
    small = office.say("李四", "成交 张三 13812345678 2套", "2026-11-27 09:10")
    assert small.tells == ()


# ---- who sent it: the identity strategy chosen by the composition root ------------------------------
def test_only_the_console_trusts_a_typed_name_a_platform_account_must_be_linked(office):
    from handlers.messages import Incoming
    from rules import texts as T
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    before = office.state()
    out = office.app.handle(Incoming("feishu", "李四", "到访 张三 13812345678", at("2026-11-27 09:05"),
                                     chat_id="oc_1", project="阳光花园", event_id="feishu:e1"))
    assert [o.text for o in out] == [T.UNKNOWN_SENDER] and office.state()[1] == before[1]
    said = office.say("李四", "到访 张三 13812345678", "2026-11-27 09:06")
    assert not said.refused and said.text.startswith("李四 报到访")
