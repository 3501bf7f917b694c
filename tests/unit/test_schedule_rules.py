"""提醒与定时 (RULES §7): reminder due times and quiet hours."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from rules.policy import preset
from rules.schedule import LAPSE_NOTICE, REMIND_EVE, REMIND_LAST, customer_due, in_quiet_hours, next_shift_time, out_of_quiet

TZ = ZoneInfo("Asia/Shanghai")
P = preset("real_estate")
DEADLINE = datetime(2026, 11, 27, 23, 59, 59, tzinfo=TZ)      # last follow-up 11-20


def at(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def test_first_reminder_the_day_before_the_last_day_at_remind_time():
    assert customer_due(DEADLINE, 0, P) == (REMIND_EVE, at("2026-11-26 09:00"))


def test_second_reminder_on_the_last_day_at_remind_time():
    assert customer_due(DEADLINE, REMIND_EVE, P) == (REMIND_LAST, at("2026-11-27 09:00"))


def test_lapse_notice_at_next_remind_time_after_lapse():
    assert customer_due(DEADLINE, REMIND_LAST, P) == (LAPSE_NOTICE, at("2026-11-28 09:00"))


def test_nothing_after_the_lapse_notice():
    assert customer_due(DEADLINE, LAPSE_NOTICE, P) is None


def test_remind_time_is_a_setting():
    p = P.with_overrides(remind_time=time(10, 30))
    assert customer_due(DEADLINE, 0, p) == (REMIND_EVE, at("2026-11-26 10:30"))


def test_reminder_inside_quiet_hours_waits_for_their_end():
    p = P.with_overrides(remind_time=time(7, 0))
    assert customer_due(DEADLINE, 0, p) == (REMIND_EVE, at("2026-11-26 08:30"))
    assert customer_due(DEADLINE, REMIND_LAST, p) == (LAPSE_NOTICE, at("2026-11-28 08:30"))


def test_late_evening_remind_time_moves_to_next_morning():
    p = P.with_overrides(remind_time=time(22, 0))
    assert customer_due(DEADLINE, 0, p) == (REMIND_EVE, at("2026-11-27 08:30"))


@pytest.mark.parametrize("hhmm, quiet", [
    ("20:59", False), ("21:00", True), ("23:59", True), ("00:00", True), ("03:00", True),
    ("08:29", True), ("08:30", False), ("09:00", False), ("12:00", False),
])
def test_quiet_hours_wrap_around_midnight(hhmm, quiet):
    assert in_quiet_hours(at(f"2026-11-27 {hhmm}"), P) is quiet


def test_quiet_hours_within_one_day():
    p = P.with_overrides(quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert in_quiet_hours(at("2026-11-27 12:00"), p)
    assert in_quiet_hours(at("2026-11-27 13:59"), p)
    assert not in_quiet_hours(at("2026-11-27 14:00"), p)
    assert not in_quiet_hours(at("2026-11-27 23:00"), p)


@pytest.mark.parametrize("t, expected", [
    ("2026-11-27 22:00", "2026-11-28 08:30"),     # evening → next morning
    ("2026-11-28 03:00", "2026-11-28 08:30"),     # after midnight → same morning
    ("2026-11-27 21:00", "2026-11-28 08:30"),
    ("2026-11-27 10:00", "2026-11-27 10:00"),     # not quiet: unchanged
    ("2026-11-27 08:30", "2026-11-27 08:30"),
])
def test_out_of_quiet_is_the_first_moment_outside(t, expected):
    assert out_of_quiet(at(t), P) == at(expected)


def test_next_shift_time_is_strictly_after():
    assert next_shift_time(at("2026-11-27 08:00"), time(9, 0)) == at("2026-11-27 09:00")
    assert next_shift_time(at("2026-11-27 09:00"), time(9, 0)) == at("2026-11-28 09:00")
    assert next_shift_time(at("2026-11-27 18:30"), time(9, 0)) == at("2026-11-28 09:00")


# ---- daily summaries and nudges around the quiet hours (issue 10) ----------------------------
def test_a_summary_due_at_a_shift_end_inside_the_quiet_hours_is_posted_at_their_end():
    from rules.schedule import summary_due
    assert summary_due(at("2026-11-27 00:00").date(), time(21, 0), TZ, P) == at("2026-11-28 08:30")
    assert summary_due(at("2026-11-27 00:00").date(), time(18, 0), TZ, P) == at("2026-11-27 18:00")


@pytest.mark.parametrize("due, end, day", [
    ("2026-11-28 08:30", time(21, 0), "2026-11-27"),      # postponed: reports yesterday
    ("2026-11-28 08:30", time(21, 30), "2026-11-27"),
    ("2026-11-27 18:00", time(18, 0), "2026-11-27"),      # on time: reports today
])
def test_a_summary_reports_the_day_of_the_latest_shift_end(due, end, day):
    from rules.schedule import summary_day
    assert str(summary_day(at(due), end)) == day


def test_a_nudge_falling_due_on_a_later_day_is_dropped():
    from rules.schedule import nudge_wanted
    assert nudge_wanted(at("2026-11-27 10:00").date(), at("2026-11-27 21:59"))
    assert not nudge_wanted(at("2026-11-27 10:00").date(), at("2026-11-28 08:30"))
