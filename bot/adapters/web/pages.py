"""HTML of the board shell and the report page (server-rendered; assets from /assets, no CDN)."""
from __future__ import annotations

from datetime import date, timedelta
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.adapters.web import svg
from handlers import reports
from handlers.charts import series
from storage.uow import UnitOfWork

MAX_DAYS = 400


def board_html(project: str) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>{escape(project)} · 接待看板</title><link rel="stylesheet" href="../assets/board.css"></head>
<body><main id="board">
<header><h1 id="project">{escape(project)}</h1><div id="date"></div><div id="conn" class="conn">连接中…</div></header>
<section class="next"><div class="label">下一位</div><div id="next" class="big">…</div><div id="assigned"></div></section>
<section class="side"><div id="receiving"></div><div id="phone"></div></section>
<section class="queue"><h2>今日轮排</h2><ol id="queue"></ol></section>
<footer id="last"></footer>
</main><script src="../assets/board.js"></script></body></html>""", headers={"Cache-Control": "no-store"})


def _span(request: Request, today: date) -> tuple[date, date, str]:
    """?from=&to= (both included); this month by default; a bad range says so and falls back."""
    default = reports.month_span(today)
    f, t = request.query_params.get("from"), request.query_params.get("to")
    if not f and not t:
        return *default, ""
    try:
        start = date.fromisoformat(f) if f else default[0]
        end = date.fromisoformat(t) if t else today
    except ValueError:
        return *default, "日期格式应为 YYYY-MM-DD，已显示本月。"
    if end < start or (end - start).days >= MAX_DAYS:
        return *default, f"日期范围应为 1–{MAX_DAYS} 天，已显示本月。"
    return start, end, ""


def report_response(engine, settings, found: tuple[int, str], request: Request, clock) -> HTMLResponse:
    now = clock().astimezone(settings.tz)
    start, end, note = _span(request, now.date())
    with UnitOfWork(engine, readonly=True) as uow:
        rep = reports.build(uow.session, found[0], found[1], settings.tz, (start, end), now)
    return HTMLResponse(report_html(rep, note), headers={"Cache-Control": "no-store"})


def report_html(rep: reports.Report, note: str = "") -> str:
    data = series(rep)
    head = "".join(f"<th>{escape(h)}</th>" for h in reports.HEADERS)
    body = "".join(_tr(r) for r in rep.rows) + _tr(rep.total(), "total")
    quick = [("近 7 天", *reports.week_span(rep.end)), ("本月", *reports.month_span(rep.end)),
             ("近 30 天", rep.end - timedelta(days=29), rep.end)]
    links = " ".join(f'<a href="?from={a}&amp;to={b}">{w}</a>' for w, a, b in quick)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>{escape(rep.project)} · 报表</title><link rel="stylesheet" href="../assets/report.css"></head>
<body><h1>{escape(rep.project)} · 报表 <small>{rep.start} 至 {rep.end}</small></h1>
<form method="get">从 <input type="date" name="from" value="{rep.start}"> 到 <input type="date" name="to" value="{rep.end}">
<button>查看</button> {links}</form>{f'<p class="note">{escape(note)}</p>' if note else ''}
<table id="figures"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<p class="how">转化率 = 成交 ÷ 计名次接待；两人分单各计份额；流失公客 = 这段时间跟踪期到期、未跟进的客户。</p>
<figure>{svg.bars(data)}</figure><figure>{svg.line(data)}</figure></body></html>"""


def _tr(r: reports.Row, cls: str = "") -> str:
    cells = r.cells()
    cells[6] = reports.percent(r.conversion)
    tds = "".join(f"<td>{escape(str(v))}</td>" for v in cells)
    return f'<tr class="{cls}">{tds}</tr>' if cls else f"<tr>{tds}</tr>"
