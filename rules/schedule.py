"""When scheduled work falls due (RULES §7). Pure: times in, times out."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rules.enums import STALE_AFTER_ITS_DAY
from rules.policy import Policy

REMIND_EVE, REMIND_LAST, LAPSE_NOTICE = 1, 2, 3


def in_quiet_hours(t: datetime, policy: Policy) -> bool:
    start, end, now = policy.quiet_start, policy.quiet_end, t.timetz().replace(tzinfo=None)
    return (now >= start or now < end) if start > end else start <= now < end


def out_of_quiet(t: datetime, policy: Policy) -> datetime:
    """The first moment at or after t that is outside the quiet hours."""
    if not in_quiet_hours(t, policy):
        return t
    end = datetime.combine(t.date(), policy.quiet_end, tzinfo=t.tzinfo)
    return end if end > t else end + timedelta(days=1)


def at_time(day: date, t: time, tz) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def customer_due(valid_until: datetime, stage_done: int, policy: Policy) -> tuple[int, datetime] | None:
    """The next reminder stage after `stage_done` and when it falls due.

    1: the day before the last valid day, 2: the last day (both at remind_time),
    3: the lapse notice at the first remind_time after the lapse, outside quiet hours.
    """
    last = valid_until.date()
    tz = valid_until.tzinfo
    plan = [
        (REMIND_EVE, at_time(last - timedelta(days=1), policy.remind_time, tz)),
        (REMIND_LAST, at_time(last, policy.remind_time, tz)),
        (LAPSE_NOTICE, at_time(last + timedelta(days=1), policy.remind_time, tz)),
    ]
    for stage, due in plan:
        if stage > stage_done:
            return stage, out_of_quiet(due, policy)
    return None


def lapse_notice_due(valid_until: datetime, policy: Policy) -> datetime:
    """When the lapse of an ownership valid through `valid_until` is told (the first remind_time after it)."""
    due = customer_due(valid_until, REMIND_LAST, policy)
    assert due is not None and due[0] == LAPSE_NOTICE, due
    return due[1]


def next_shift_time(after: datetime, at: time) -> datetime:
    """The first time-of-day `at` strictly after `after` (same tz)."""
    t = datetime.combine(after.date(), at, tzinfo=after.tzinfo)
    return t if t > after else t + timedelta(days=1)


def summary_day(due: datetime, shift_end: time) -> date:
    """The day a summary due at `due` reports: the day of the latest shift end at or before it
    (a summary postponed by the quiet hours reports the day before)."""
    end = datetime.combine(due.date(), shift_end, tzinfo=due.tzinfo)
    return due.date() if end <= due else due.date() - timedelta(days=1)


def summary_due(day: date, shift_end: time, tz, policy: Policy) -> datetime:
    """When the summary of `day` is posted: at shift end, or at the end of the quiet hours (§7)."""
    return out_of_quiet(datetime.combine(day, shift_end, tzinfo=tz), policy)


def nudge_wanted(reception_day: date, now: datetime) -> bool:
    """A nudge that falls due on a later day than its reception is dropped: the next opening closes it."""
    return reception_day == now.date()


def past_its_day(kind: str, day: date, today: date) -> bool:
    """A day's announcement (开班 greeting, 日报, nudge, "expires tomorrow/today" reminder, catch-up line)
    reached only once its day is over is not sent; replies and lapse notices still are. Local dates."""
    return kind in STALE_AFTER_ITS_DAY and today > day
