"""/周报 [上周] and /月报 [上月|YYYY-MM] (COMMANDS): the words parsed, the days each one covers."""
from __future__ import annotations

from datetime import date

import pytest

from bot.parser import Usage, parse
from handlers import commands as c
from handlers.reports import period_span
from rules.errors import Refused

TODAY = date(2026, 12, 2)          # a Wednesday


@pytest.mark.parametrize(("text", "cmd"), [
    ("/周报", c.PeriodReport("week")), ("/周报 上周", c.PeriodReport("week", "last")),
    ("/月报", c.PeriodReport("month")), ("/月报 上月", c.PeriodReport("month", "last")),
    ("/月报 2026-11", c.PeriodReport("month", "2026-11")), ("/月报 2026-3", c.PeriodReport("month", "2026-03")),
    ("/月报 2026年11月", c.PeriodReport("month", "2026-11"))])
def test_the_period_words_are_parsed(text, cmd):
    assert parse(text)[1] == cmd


@pytest.mark.parametrize("text", ["/月报 2026-13", "/月报 上周", "/周报 上月", "/周报 2026-11", "/月报 上月 2026-11"])
def test_anything_else_gets_the_usage_line(text):
    with pytest.raises(Usage):
        parse(text)


@pytest.mark.parametrize(("period", "which", "span"), [
    ("week", "", (date(2026, 11, 26), TODAY)),
    ("week", "last", (date(2026, 11, 23), date(2026, 11, 29))),              # Monday to Sunday
    ("month", "", (date(2026, 12, 1), TODAY)),
    ("month", "last", (date(2026, 11, 1), date(2026, 11, 30))),
    ("month", "2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
    ("month", "2026-12", (date(2026, 12, 1), TODAY))])
def test_each_period_covers_its_days(period, which, span):
    assert period_span(period, which, TODAY) == span


def test_on_the_first_last_month_is_the_whole_previous_month():
    assert period_span("month", "last", date(2027, 1, 1)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_a_month_not_yet_begun_is_refused_in_chinese():
    with pytest.raises(Refused, match="还没到"):
        period_span("month", "2027-01", TODAY)
