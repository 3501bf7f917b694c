"""Every scheduled job with a fake clock (RULES §7), on an in-memory database."""
from __future__ import annotations

import pytest

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.messages import Incoming
from handlers.state_view import dump
from tests.conftest import at

P = "阳光花园"


@pytest.fixture
def app(config_file):
    return bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-20 08:00")))


def say(app, who, text, when):
    return app.handle(Incoming("console", who, text, at(when), project=P))


def texts(msgs, to=None):
    return [(f"{o.at.astimezone(at('2026-11-27 00:00').tzinfo):%m-%d %H:%M}" if o.at else "", o.text)
            for o in msgs if o.to == to]


def test_the_day_opens_at_shift_start_once_with_those_who_signed_in(app):
    say(app, "李四", "签到", "2026-11-20 08:40")
    out = app.run_due(at("2026-11-20 09:30"), P)
    opens = [t for _, t in texts(out) if "开班" in t]
    assert len(opens) == 1 and "李四 → 王五（未到）" in opens[0] and opens[0].endswith("下一位:李四")
    assert app.run_due(at("2026-11-20 09:31"), P) == []


def test_a_day_opened_early_by_the_manager_is_not_opened_again(app):
    say(app, "张经理", "/开班 王五 李四", "2026-11-20 08:50")
    out = app.run_due(at("2026-11-20 09:00"), P)
    assert not [t for _, t in texts(out) if "开班" in t]
    assert [q["name"] for q in dump(app.engine, app.projects[P], at("2026-11-20 09:01"))["queue"]] == ["王五", "李四"]


def test_the_daily_summary_at_shift_end_counts_receptions_deals_and_tomorrows_lapses(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 陈一 13800000001", "2026-11-20 09:05")     # lapses 11-27 24:00
    say(app, "李四", "送客", "2026-11-20 09:30")
    say(app, "张经理", "/开班 李四 王五", "2026-11-26 09:00")
    say(app, "李四", "接待", "2026-11-26 09:05")
    say(app, "李四", "非客 装修", "2026-11-26 09:06")
    say(app, "王五", "到访 张三 13812345678", "2026-11-26 09:10")
    say(app, "王五", "成交 张三 13812345678 2套", "2026-11-26 10:00")
    out = app.run_due(at("2026-11-26 18:00"), P)
    summary = [t for when, t in texts(out) if when == "11-26 18:00"]
    assert len(summary) == 1
    assert "李四 计0/不计1" in summary[0] and "王五 计1/不计0" in summary[0]
    assert "张三（138****5678）2套 王五 100%" in summary[0] and "明天到期：陈一（李四）" in summary[0]


def test_reminders_come_the_day_before_and_on_the_last_day_and_move_with_a_follow_up(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 09:05")
    say(app, "李四", "送客", "2026-11-20 09:30")
    out = app.run_due(at("2026-11-26 08:59"), P)
    assert texts(out, "李四") == []
    out = app.run_due(at("2026-11-26 09:00"), P)
    assert [w for w, t in texts(out, "李四")] == ["11-26 09:00"]
    say(app, "李四", "跟进 13812345678 约了周末", "2026-11-26 10:00")   # now valid through 12-03
    out = app.run_due(at("2026-12-02 12:00"), P) + app.run_due(at("2026-12-03 12:00"), P)
    assert [w for w, t in texts(out, "李四")] == ["12-02 09:00", "12-03 09:00"]


def test_the_lapse_notice_goes_to_owner_and_managers_next_morning_not_at_midnight(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 09:05")
    say(app, "李四", "送客", "2026-11-20 09:30")
    out = app.run_due(at("2026-11-28 12:00"), P)
    lapse = [(o.to, o.at) for o in out if "公客" in o.text]
    assert sorted(to for to, _ in lapse) == ["张经理", "李四"]
    assert all(t == at("2026-11-28 09:00") for _, t in lapse)
    assert dump(app.engine, app.projects[P], at("2026-11-28 00:00"))["customers"][0]["status"] == "lapsed"


def test_a_customer_with_a_deal_gets_no_reminders(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 09:05")
    say(app, "李四", "成交 张三 13812345678", "2026-11-20 10:00")
    say(app, "李四", "送客", "2026-11-20 10:30")
    assert texts(app.run_due(at("2026-12-10 12:00"), P), "李四") == []


def test_a_reception_left_open_gets_one_nudge_and_frees_the_turn(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05")
    assert dump(app.engine, app.projects[P], at("2026-11-27 11:04"))["queue"][1]["presence"] == "busy"
    out = app.run_due(at("2026-11-27 11:10"), P)
    nudges = [(w, t) for w, t in texts(out, "李四") if "送客" in t]
    assert [w for w, _ in nudges] == ["11-27 11:05"]
    assert dump(app.engine, app.projects[P], at("2026-11-27 11:11"))["queue"][1]["presence"] == "available"
    assert texts(app.run_due(at("2026-11-27 15:00"), P), "李四") == []


def test_nothing_is_pushed_inside_quiet_hours(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 17:30")
    nudged = app.run_due(at("2026-11-20 20:00"), P)
    out = nudged + app.run_due(at("2026-11-30 12:00"), P)
    for o in out:
        t = o.at.astimezone(at("2026-11-27 00:00").tzinfo).time()
        assert not (t.hour >= 21 or (t.hour, t.minute) < (8, 30)), (o.at, o.text)
    assert any("送客" in o.text and o.to == "李四" for o in nudged)     # the nudge came, in the daytime


def test_receptions_left_open_overnight_are_closed_at_the_next_opening(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05")
    app.run_due(at("2026-11-28 09:00"), P)
    say(app, "李四", "签到", "2026-11-28 09:01")
    assert "没有接待中的客户" in say(app, "李四", "送客", "2026-11-28 09:02")[0].text


def test_platform_event_ids_are_kept_for_thirty_days_then_dropped(app):
    first = app.handle(Incoming("console", "李四", "签到", at("2026-11-20 08:40"), project=P, event_id="feishu:om_1"))
    assert first
    app.run_due(at("2026-12-15 09:00"), P)          # 25 days later: still remembered
    assert app.handle(Incoming("console", "李四", "签到", at("2026-12-15 09:01"), project=P, event_id="feishu:om_1")) == []
    app.run_due(at("2026-12-21 09:00"), P)          # 31 days later: forgotten
    assert app.handle(Incoming("console", "李四", "签到", at("2026-12-21 09:01"), project=P, event_id="feishu:om_1"))


def test_a_shift_starting_inside_quiet_hours_opens_on_time_and_is_announced_when_they_end(config_file):
    text = (config_file().read_text(encoding="utf-8")
            .replace('start: "09:00"', 'start: "08:00"'))
    path = config_file("early", text)
    app = bootstrap(path, db_url="sqlite://", clock=FakeClock(at("2026-11-20 07:00")))
    say(app, "李四", "签到", "2026-11-20 07:50")
    out = app.run_due(at("2026-11-20 08:10"), P)
    assert [o for o in out if o.to is None] == []
    assert dump(app.engine, app.projects[P], at("2026-11-20 08:10"))["next"] == "李四"          # open (silently) since 08:00
    out = app.run_due(at("2026-11-20 08:40"), P)
    opens = [(w, t) for w, t in texts(out) if "开班" in t]
    assert [w for w, _ in opens] == ["11-20 08:30"]
    assert texts(app.run_due(at("2026-11-20 12:00"), P)) == []


def test_a_day_the_manager_opened_is_not_announced_again(app):
    say(app, "张经理", "/开班", "2026-11-20 08:50")
    assert not [t for _, t in texts(app.run_due(at("2026-11-20 09:30"), P)) if "开班" in t]


SHIFT = """
timezone: Asia/Shanghai
projects:
  - name: 阳光花园
    shift: {start: "%s", end: "%s"}
    managers: [张经理]
    salespeople: [李四, 王五]
"""


def summaries(out):
    return [(when, t.splitlines()[0]) for when, t in texts(out) if "日报" in t]


@pytest.mark.parametrize("start, end", [("09:00", "21:00"), ("08:00", "21:30")])
def test_a_summary_due_inside_the_quiet_hours_comes_at_their_end_once_a_day_titled_with_its_day(
        config_file, start, end):
    app = bootstrap(config_file(text=SHIFT % (start, end)), db_url="sqlite://",
                    clock=FakeClock(at("2026-11-20 07:00")))
    out = []
    for d in range(20, 24):                          # step through four days, an hour at a time
        for h in range(24):
            out += app.run_due(at(f"2026-11-{d} {h:02d}:45"), P)
    got = summaries(out)
    assert got == [(f"11-{d + 1} 08:30", f"【11-{d} 日报】阳光花园") for d in range(20, 23)]


def test_a_nudge_for_a_reception_the_next_opening_closes_is_dropped(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 17:55")     # 120 minutes later: 19:55
    say(app, "王五", "到访 刘一 13900001111", "2026-11-20 19:30")     # nudge due 21:30: quiet
    out = app.run_due(at("2026-11-20 20:00"), P)             # the bot runs through the evening
    out += app.run_due(at("2026-11-21 12:00"), P)
    nudges = [(when, t[:6]) for who in ("李四", "王五") for when, t in texts(out, to=who)]
    assert nudges == [("11-20 19:55", "你的接待已超")]
