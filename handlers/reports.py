"""Reports: per-salesperson figures for a date range (one query module: storage/reports.py),
the chat text of /周报 and /月报, and the view shared by the report page, the PNG and the 汇总 sheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rules import texts as T
from rules.errors import Refused
from storage.repos.views import ReportFigures

HEADERS = T.REPORT_HEADERS


@dataclass(frozen=True)
class Row:
    name: str
    counted: int = 0
    uncounted: int = 0
    registrations: int = 0
    deals: float = 0.0
    units: float = 0.0
    lapsed: int = 0
    makeups_earned: int = 0
    makeups_used: int = 0

    @property
    def conversion(self) -> float | None:
        """成交 ÷ 计名次接待 (None when there was no counted reception)."""
        return self.deals / self.counted if self.counted else None

    def cells(self) -> list:
        """The row as the table/sheet shows it (numbers stay numbers)."""
        conv = None if self.conversion is None else round(self.conversion, 4)
        return [self.name, self.counted, self.uncounted, self.registrations, num(self.deals), num(self.units),
                conv, self.lapsed, self.makeups_earned, self.makeups_used]


@dataclass(frozen=True)
class Report:
    project: str
    start: date
    end: date
    rows: tuple[Row, ...]
    daily: tuple[tuple[date, int], ...]     # walk-ins per day, every day of the range

    def total(self) -> Row:
        def add(f):
            return sum(getattr(r, f) for r in self.rows)
        fields = ("counted", "uncounted", "registrations", "deals", "units", "lapsed", "makeups_earned", "makeups_used")
        return Row(T.REPORT_TOTAL_ROW, *(add(f) for f in fields))


def num(x: float) -> float | int:
    """1.0 → 1, 0.5 stays 0.5 (shares), two decimals at most."""
    x = round(float(x), 2)
    return int(x) if x == int(x) else x


def build(q: ReportFigures, project_id: int, project: str, tz: ZoneInfo, span: tuple[date, date], now: datetime) -> Report:
    """All figures of `project` for the days span[0]..span[1] (local dates, both included), read through
    the unit of work's `report_figures`."""
    start, end = span
    lo = datetime.combine(start, time(0), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    rec = q.receptions(project_id, start, end)
    reg = q.registrations(project_id, lo, hi)
    lap = q.lapsed(project_id, lo, min(hi, now))
    dl = q.deals(project_id, start, end)
    mk = q.makeups(project_id, start, end)
    names = q.roster(project_id)
    seen = set(names)
    names += sorted({n for d in (rec, reg, lap, dl, mk) for n in d if n and n not in seen})
    rows = tuple(Row(n, *_pair(rec.get(n, [0, 0])), reg.get(n, 0), *dl.get(n, (0.0, 0.0)), lap.get(n, 0),
                     *mk.get(n, (0, 0))) for n in names)
    walk = q.daily_walk_ins(project_id, start, end)
    days = tuple((start + timedelta(days=i), walk.get(start + timedelta(days=i), 0))
                 for i in range((end - start).days + 1))
    return Report(project, start, end, rows, days)


def _pair(counts: list[int]) -> tuple[int, int]:
    """One salesperson's [counted, uncounted] from storage.reports.receptions, as the two Row fields."""
    counted, uncounted = counts
    return counted, uncounted


def week_span(today: date) -> tuple[date, date]:
    """/周报: the last 7 days, today included."""
    return today - timedelta(days=6), today


def month_span(today: date) -> tuple[date, date]:
    """/月报: this month up to today."""
    return today.replace(day=1), today


def period_span(period: str, which: str, today: date) -> tuple[date, date]:
    """The days of /周报 or /月报: this period so far (""), the one before ("last": last Monday–Sunday,
    last calendar month) or the month "YYYY-MM" (up to today if it is this month; a future one is refused)."""
    if period == "week":
        if which == "last":
            monday = today - timedelta(days=today.weekday() + 7)
            return monday, monday + timedelta(days=6)
        return week_span(today)
    if which == "":
        return month_span(today)
    if which == "last":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    year, month = (int(x) for x in which.split("-"))
    first = date(year, month, 1)
    if first > today:
        raise Refused(T.REPORT_FUTURE.format(month=which))
    nxt = (first + timedelta(days=31)).replace(day=1)
    return first, min(nxt - timedelta(days=1), today)


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def summary_text(rep: Report, title: str) -> str:
    """The short chat text that goes with the chart."""
    t = rep.total()
    lines = [T.REPORT_HEAD.format(title=title, project=rep.project, start=rep.start, end=rep.end),
             T.REPORT_TOTAL.format(all=t.counted + t.uncounted, counted=t.counted, registrations=t.registrations,
                                   deals=num(t.deals), units=num(t.units), conversion=percent(t.conversion),
                                   lapsed=t.lapsed)]
    active = [r for r in rep.rows if r.counted or r.uncounted or r.registrations or r.deals]
    for r in sorted(active, key=lambda r: (-r.deals, -r.counted))[:10]:
        lines.append(T.REPORT_LINE.format(name=r.name, all=r.counted + r.uncounted, counted=r.counted,
                                          registrations=r.registrations, deals=num(r.deals),
                                          conversion=percent(r.conversion)))
    if not active:
        lines.append(T.REPORT_EMPTY)
    return "\n".join(lines)
