"""/导出: the manager's 来访客户登记表, 接待记录, 成交记录 and 汇总 as one Excel workbook (openpyxl).

Every sheet has a frozen, filterable header row; 汇总 holds the report figures (handlers/reports.py,
the same as the /report page and the /周报 /月报 chart) with a native Excel bar chart.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from rules import texts as T

EXPORT_DIR = Path("exports")
STATUS = T.STATUS                    # the same words as the chat (one catalogue)
CATEGORY = T.CATEGORY


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    for i, h in enumerate(headers, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(h) * 2 + 4)
        for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
            for c in cell:
                if isinstance(c.value, datetime):
                    c.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(c.value, date):
                    c.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    return ws


def _summary(wb: Workbook, rep) -> None:
    """汇总: one row per salesperson, the total, and a clustered bar chart of the first figures."""
    from openpyxl.chart import BarChart, Reference

    from handlers.reports import HEADERS
    rows = [r.cells() for r in rep.rows]
    ws = _sheet(wb, "汇总", HEADERS, rows + [rep.total().cells()])
    for row in ws.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].number_format = "0%"
    if not rows:
        return
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = f"{rep.start} 至 {rep.end} 每位销售"
    chart.add_data(Reference(ws, min_col=2, max_col=4, min_row=1, max_row=len(rows) + 1), titles_from_data=True)
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=len(rows) + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1))
    chart.width, chart.height = 24, 12
    ws.add_chart(chart, f"A{len(rows) + 4}")


def _remark(c) -> str:
    """备注: the 到访 notes, and the other names the same phone was registered under."""
    others = "其他姓名：" + "、".join(c.other_names) if c.other_names else ""
    return "；".join(x for x in (c.note or "", others) if x)


def write_workbook(ctx, start: date, end: date, directory: Path | None = None) -> Path:
    tz, pid = ctx.settings.tz, ctx.project.id
    lo = datetime.combine(start, time(0), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)

    def naive(t):  # Excel has no time zones: local wall time
        return t.astimezone(tz).replace(tzinfo=None) if t else None

    custs = ctx.uow.customers.registered_between(pid, lo, hi)
    wb = Workbook()
    _sheet(wb, "来访客户登记表",
           ["登记时间", "客户姓名", "手机", "归属人", "登记人", "状态", "最后跟进", "有效期至", "备注"],
           [[naive(c.registered_at), c.name, c.phone, c.owner or "", c.registered_by,
             STATUS.get(ctx.domain(c).effective_status(ctx.now), ""), naive(c.last_activity_at), naive(c.valid_until),
             _remark(c)] for c in custs], first=True)
    recs = ctx.uow.receptions.between(pid, start, end)
    names = ctx.uow.customers.by_ids({r.customer_id for r in recs if r.customer_id})
    _sheet(wb, "接待记录", ["日期", "开始", "结束", "接待人", "客户", "手机", "类别", "计名次", "代/为谁接待", "非客类型"],
           [[r.day, naive(r.started_at), naive(r.ended_at), r.member,
             names[r.customer_id].name if r.customer_id else "", names[r.customer_id].phone if r.customer_id else "",
             CATEGORY.get(r.category, r.category), "是" if r.counted_for else "否", r.for_owner or "", r.kind]
            for r in recs])
    deals = ctx.uow.deals.between(pid, start, end)
    dn = ctx.uow.customers.by_ids({d.customer_id for d in deals})
    _sheet(wb, "成交记录", ["成交日期", "客户", "手机", "购房人", "关系", "套数", "业绩分配", "报单人"],
           [[d.day, dn[d.customer_id].name, dn[d.customer_id].phone, d.buyer_name, d.relation, d.units,
             "、".join(f"{k} {round(v * 100)}%" for k, v in d.shares.items()), d.reported_by] for d in deals])
    from handlers.reports import build
    _summary(wb, build(ctx.s, pid, ctx.project.name, tz, (start, end), ctx.now))
    out = (directory or EXPORT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{ctx.project.name}_{start}_{end}.xlsx"
    wb.save(path)
    return path
