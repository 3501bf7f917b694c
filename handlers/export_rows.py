"""/导出: the rows of the manager's 来访客户登记表, 接待记录, 成交记录 and 汇总 (the workbook itself is
written by bot/adapters/xlsx.py, handed to the handler as `Ctx.write_workbook`).

汇总 holds the report figures (handlers/reports.py, the same as the /report page and the /周报 /月报
chart) with a bar chart of the first figures.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from handlers.charts import COLORS
from handlers.reports import HEADERS, build
from rules import texts as T

EXPORT_DIR = Path("exports")
STATUS = T.STATUS                    # the same words as the chat (one catalogue)
CATEGORY = T.CATEGORY


@dataclass(frozen=True)
class Chart:
    """A clustered bar chart below the table: one series per column range, a bar group per row."""

    title: str
    series: tuple[tuple[int, int], ...]     # (first, last) column, 1-based, header row = series name
    rows: int                               # the data rows charted (from row 2)
    colors: tuple[str, ...] = ()            # "#rrggbb" per charted column, in order (handlers.charts.COLORS)


@dataclass(frozen=True)
class Sheet:
    """One sheet: a bold, frozen, filterable header row and the rows (dates and times as local wall time)."""

    title: str
    headers: list[str]
    rows: list[list]
    percent_col: int | None = None          # a column shown as a percentage (1-based)
    chart: Chart | None = None
    total_row: bool = False                 # the last row is a total: left out of the auto-filter


WorkbookWriter = Callable[[Path, list[Sheet]], None]


def export_path(project: str, start: date, end: date, directory: Path | None = None) -> Path:
    return (directory or EXPORT_DIR) / f"{project}_{start}_{end}.xlsx"


def _remark(c, phones: list[str]) -> str:
    """备注: the 到访 notes, the other names the same phone was registered under, and the person's
    further phones (RULES §5.5)."""
    others = T.EXPORT_OTHER_NAMES.format(names="、".join(c.other_names)) if c.other_names else ""
    more = T.EXPORT_OTHER_PHONES.format(phones="、".join(phones)) if phones else ""
    return "；".join(x for x in (c.note or "", others, more) if x)


def sheets(ctx, start: date, end: date) -> list[Sheet]:
    """The four sheets of the export for the days start … end (inclusive)."""
    tz = ctx.settings.tz

    def naive(t):  # Excel has no time zones: local wall time
        return t.astimezone(tz).replace(tzinfo=None) if t else None

    return [_customers(ctx, start, end, naive), _receptions(ctx, start, end, naive), _deals(ctx, start, end),
            _summary(ctx, start, end)]


def _customers(ctx, start: date, end: date, naive) -> Sheet:
    tz, pid = ctx.settings.tz, ctx.project.id
    lo = datetime.combine(start, time(0), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    regs = ctx.uow.facts.registrations_between(pid, lo, hi)     # each registration, also of a 公客 again
    return Sheet(T.EXPORT_CUSTOMERS_SHEET, T.EXPORT_CUSTOMERS_HEADERS,
                 [[naive(f.at), c.name, c.phone, c.owner or "", f.member,
                   STATUS.get(ctx.domain(c).effective_status(ctx.now), ""), naive(c.last_activity_at),
                   naive(c.valid_until), _remark(c, ctx.uow.customers.phones_of(c.id))] for f, c in regs])


def _receptions(ctx, start: date, end: date, naive) -> Sheet:
    pid = ctx.project.id
    recs = ctx.uow.receptions.between(pid, start, end)
    names = ctx.uow.customers.by_ids({r.customer_id for r in recs if r.customer_id})
    return Sheet(T.EXPORT_RECEPTIONS_SHEET, T.EXPORT_RECEPTIONS_HEADERS,
                 [[r.day, naive(r.started_at), naive(r.ended_at), r.member,
                   names[r.customer_id].name if r.customer_id else "",
                   names[r.customer_id].phone if r.customer_id else "",
                   CATEGORY.get(r.category, r.category), _counted_cell(r),
                   r.for_owner or "", r.kind]
                  for r in recs])


def _counted_cell(r) -> str:
    """计名次: 是 / 否, or whose count it was when not the receiver's (a helper's reception for the owner)."""
    if not r.counted_for:
        return T.EXPORT_NO
    return T.EXPORT_YES if r.counted_for == r.member else r.counted_for


def _deals(ctx, start: date, end: date) -> Sheet:
    deals = ctx.uow.deals.between(ctx.project.id, start, end)
    dn = ctx.uow.customers.by_ids({d.customer_id for d in deals})
    return Sheet(T.EXPORT_DEALS_SHEET, T.EXPORT_DEALS_HEADERS,
                 [[d.day, dn[d.customer_id].name, dn[d.customer_id].phone, d.buyer_name, d.relation, d.units,
                   "、".join(f"{k} {round(v * 100)}%" for k, v in d.shares.items()), d.reported_by] for d in deals])


def _summary(ctx, start: date, end: date) -> Sheet:
    """汇总: one row per salesperson, the total, and a clustered bar chart of the first figures."""
    rep = build(ctx.uow.report_figures, ctx.project.id, ctx.project.name, ctx.settings.tz, (start, end), ctx.now)
    rows = [r.cells() for r in rep.rows]
    colors = tuple(COLORS[k] for k in ("counted", "uncounted", "registrations", "deals"))   # as the PNG and the page
    chart = (Chart(T.EXPORT_CHART_TITLE.format(start=rep.start, end=rep.end), ((2, 4), (5, 5)), len(rows), colors)
             if rows else None)
    return Sheet(T.EXPORT_SUMMARY_SHEET, HEADERS, rows + [rep.total().cells()], percent_col=7, chart=chart,
                 total_row=True)
