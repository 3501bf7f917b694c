"""Chat lines as the command line and the console write them, and the times they may carry.

In: `[2026-01-05 09:00] 李四: 到访 张三 13812345678` (`(私聊)` after the name: a private message).
Out: `[2026-01-05 09:00] → 群: …` or `→ 李四(私聊): …`; a chart file as one more line `图表:PATH`.
A time earlier than the project's last recorded change, or scheduled work more than 31 days
behind, is a `Refusal` (one line on stderr, exit code 2) unless `--catch-up` asks for it. So is a
time that is not a real 'YYYY-MM-DD HH:MM' or one before EARLIEST; and a `--catch-up` to a time more
than AHEAD past the real clock (`REAL`: it would run and schedule the project into the future). A
transcript or `say` dated ahead without `--catch-up` stays free: the 31-day rule bounds it.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from bot.clock import Clock, SystemClock, clock_at
from bot.scheduled import CATCH_UP_LIMIT
from handlers.messages import Outgoing
from rules import texts as T

TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
EARLIEST = date(2000, 1, 1)         # nothing earlier is meant (and year 1 would overflow in UTC)
AHEAD = timedelta(days=1)           # the most a command-line time may be past the real clock
REAL: Clock = SystemClock()         # the real clock those times are checked against (tests put a FakeClock here)
LINE = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)\]\s*(.+?)(\s*[(（]私聊[)）])?\s*[:：]\s?(.*)$")


class Refusal(Exception):
    """A time the command line will not process: one line on stderr, exit code 2."""


def fmt(o: Outgoing, at: datetime) -> str:
    t = (o.at or at).astimezone(at.tzinfo)
    stamp = t.strftime("%Y-%m-%d %H:%M" + (":%S" if t.second else ""))
    target = "群" if o.to is None else f"{o.to}(私聊)"
    chart = f"\n图表:{o.file}" if o.file and o.file.lower().endswith(".png") else ""   # /周报 /月报
    return f"[{stamp}] → {target}: {o.text}{chart}"


def parse_time(s: str, tz) -> datetime:
    """'YYYY-MM-DD HH:MM', with ':SS' and '.ffffff' if given, in `tz`: every time the command line takes
    (`--at`, `--until`, transcript lines). Not a real date and time, or before EARLIEST: a Refusal."""
    at = _strptime(s.strip(), tz)
    if at is None:
        raise Refusal(T.CLI_BAD_TIME.format(value=s))
    if at.date() < EARLIEST:
        raise Refusal(T.CLI_TIME_TOO_EARLY.format(value=s, earliest=EARLIEST))
    return at


def clock_of(args, tz, running: bool = False) -> Clock:
    """The one wall clock of a command: `--at` (standing still, or from there at real speed for
    `run`/`web`), else the real one; a `--catch-up` too far ahead is refused first."""
    at = parse_time(args.at, tz) if getattr(args, "at", None) else None
    catch_up_to(at, getattr(args, "catch_up", False))
    return clock_at(at, running)


def catch_up_to(at: datetime | None, catch_up: bool, real: Clock | None = None) -> None:
    """`--catch-up` to `at` more than AHEAD past the real clock (`real`, default REAL): a Refusal, before
    any work (a catch-up to 2099 ran for a minute and left the project scheduled decades ahead)."""
    if at is None or not catch_up:
        return
    now = (real or REAL).now()
    if at - now > AHEAD:
        raise Refusal(T.CLI_TIME_AHEAD.format(value=f"{at:%Y-%m-%d %H:%M}",
                                              now=f"{now.astimezone(at.tzinfo):%Y-%m-%d %H:%M}"))


def _strptime(s: str, tz) -> datetime | None:
    for f in TIME_FORMATS:
        try:
            return datetime.strptime(s, f).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def check_time(app, project: str, at: datetime, catch_up: bool) -> None:
    """`say`/`replay`: never earlier than the project's last recorded change (time does not run back)."""
    last = app.scheduled.last_change(project)
    if last is not None and at < last:
        raise Refusal(T.CLI_BEFORE_LAST_CHANGE.format(at=f"{at:%Y-%m-%d %H:%M}", project=project,
                                                      last=f"{last.astimezone(at.tzinfo):%Y-%m-%d %H:%M}"))
    check_catch_up(app, project, at, catch_up)


def check_catch_up(app, project: str, at: datetime, catch_up: bool) -> None:
    """Scheduled work more than 31 days behind `at` is done only when asked (--catch-up)."""
    behind = app.scheduled.behind(project, at)
    if behind > CATCH_UP_LIMIT and not catch_up:
        raise Refusal(T.CLI_CATCH_UP_TOO_LONG.format(project=project, days=behind.days, limit=CATCH_UP_LIMIT.days))
