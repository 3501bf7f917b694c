"""RULES §2 "Yesterday's cycle is everyone's": 签退, 请假 and being skipped cost today's turns only;
tomorrow opens from the cycle, unused make-ups first in the order they were earned (carry_over)."""
from __future__ import annotations

from datetime import date, timedelta

from rules.queue import ABSENT, AWAY_PERSONAL, Day

TODAY = date(2026, 11, 27)
TOMORROW = TODAY + timedelta(days=1)
ROSTER = ["甲", "乙", "丙", "丁"]


def today(names=ROSTER) -> Day:
    d = Day()
    d.open_with(TODAY, list(names))
    return d


def tomorrow(d: Day, carry_over: bool = True, roster=ROSTER) -> list[str]:
    d.open(TOMORROW, roster, carry_over)
    return d.names()


def makeups(d: Day) -> list[str]:
    return [e.name for e in d.queue if e.makeup is not None]


def test_everyone_signing_out_in_the_evening_keeps_the_days_final_order():
    d = today()
    d.take_walk_in("甲")                              # 乙 丙 丁 甲
    d.take_walk_in("乙")                              # 丙 丁 甲 乙
    for n in ("丙", "丁", "甲", "乙"):
        d.leave(n, "签退")
    assert tomorrow(d) == ["丙", "丁", "甲", "乙"]


def test_signing_out_in_second_place_opens_tomorrow_behind_nobody_who_was_behind():
    d = today()
    d.leave("乙", "签退")                             # 甲 (乙) 丙 丁
    d.take_walk_in("甲")                              # (乙) 丙 丁 甲
    d.take_walk_in("丙")                              # (乙) 丁 甲 丙
    assert tomorrow(d) == ["乙", "丁", "甲", "丙"]


def test_an_early_sign_out_keeps_an_unused_makeup_for_tomorrow():
    d = today()
    d.take_walk_in("甲")                              # 乙 丙 丁 甲
    d.refund("甲", "非客")                            # 甲 乙 丙 丁, 甲 holds a make-up
    d.leave("甲", "签退")
    d.take_walk_in("乙")
    assert tomorrow(d) == ["甲", "丙", "丁", "乙"] and makeups(d) == ["甲"]


def test_makeups_open_tomorrow_first_in_the_order_they_were_earned():
    d = today()
    d.give_makeup("丁", "补")
    d.give_makeup("丙", "补")                          # 丁 丙 甲 乙
    d.leave("丁", "签退")
    assert tomorrow(d) == ["丁", "丙", "甲", "乙"] and makeups(d) == ["丁", "丙"]
    d.take_walk_in("丁")                              # the make-up is used by the next counted reception
    assert makeups(d) == ["丙"]


def test_under_a_fixed_order_makeups_lapse_at_the_days_end():
    d = today()
    d.give_makeup("丁", "补")
    assert tomorrow(d, carry_over=False) == ROSTER and makeups(d) == []


def test_being_skipped_costs_todays_turns_only():
    d = today()
    d.set_presence("甲", ABSENT, "未签到")
    d.set_presence("乙", AWAY_PERSONAL, "暂离")
    d.take_walk_in("丙")                              # 甲 乙 skipped: 丁 甲 乙 丙 today
    assert d.names() == ["丁", "甲", "乙", "丙"]
    assert tomorrow(d) == ["甲", "乙", "丁", "丙"]


def test_a_manager_skip_keeps_the_place_in_the_cycle():
    d = today()
    d.skip("乙", "无故不在")
    assert d.names() == ["甲", "丙", "丁", "乙"]
    assert tomorrow(d) == ROSTER


def test_leave_then_sign_in_again_joins_todays_tail_and_gets_the_makeup_back():
    d = today()
    d.give_makeup("丙", "补")                          # 丙 甲 乙 丁
    d.leave("丙", "签退")
    d.sign_in("丙")
    assert d.names()[0] == "丙" and makeups(d) == ["丙"]
    d.take_walk_in("丙")
    assert tomorrow(d) == ["甲", "乙", "丁", "丙"]


def test_a_member_off_the_roster_leaves_the_cycle_and_a_new_one_joins_at_the_end():
    d = today()
    d.leave("乙", "签退")
    d.drop("乙")
    assert tomorrow(d, roster=["甲", "丙", "丁", "戊"]) == ["甲", "丙", "丁", "戊"]


def test_a_state_saved_before_the_cycle_existed_opens_as_it_used_to():
    d = today()
    d.take_walk_in("甲")
    old = d.to_dict()
    del old["cycle"], old["carried"]
    assert tomorrow(Day.from_dict(old)) == ["乙", "丙", "丁", "甲"]


def test_the_cycle_survives_a_save_and_load():
    d = today()
    d.give_makeup("丁", "补")
    d.leave("丁", "签退")
    d.take_walk_in("甲")
    again = Day.from_dict(d.to_dict())
    assert tomorrow(again) == tomorrow(d)


def test_opening_with_named_members_makes_their_order_the_cycle():
    d = today()
    d.leave("甲", "签退")
    d.open_with(TODAY, ["丁", "丙", "乙"])
    assert tomorrow(d) == ["丁", "丙", "乙", "甲"]
