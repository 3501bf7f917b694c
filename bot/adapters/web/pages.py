"""HTML of the board shell and the report page (server-rendered; assets from /assets, no CDN)."""
from __future__ import annotations

from datetime import date, timedelta
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.adapters.web import svg
from handlers import reports
from handlers.charts import series
from rules import texts as T
from storage.uow import UnitOfWork

MAX_DAYS = 400
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)     # the report's dates, as /导出's


def board_html(project: str) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>{escape(project)} · 接待看板</title><link rel="stylesheet" href="../assets/board.css"></head>
<body><main id="board">
<header><h1 id="project">{escape(project)}</h1><div id="date"></div><div id="clock"></div>
<div id="conn" class="conn">连接中…</div></header>
<div id="stale" hidden></div>
<section class="hero"><div class="up"><div class="label" id="next-label">下一位</div><div id="next" class="big">…</div>
<div id="second"></div><div id="assigned"></div></div>
<div class="side"><dl id="totals"></dl><div id="receiving"></div><div id="phone"></div></div></section>
<section class="queue"><h2 id="queue-title">今日轮排</h2><ol id="queue"></ol><div id="more" hidden></div></section>
<footer id="last"></footer>
</main><script src="../assets/board.js"></script></body></html>""", headers={"Cache-Control": "no-store"})


class BadSpan(ValueError):
    """A ?from=&to= the report cannot show; the message says why (the page answers 400)."""


def _span(request: Request, today: date) -> tuple[date, date]:
    """?from=&to= (both included); this month by default, `to` alone: from the first of its month.
    Not a date, outside EARLIEST..LATEST (as /导出), `from` after `to`, or over MAX_DAYS: BadSpan."""
    f, t = request.query_params.get("from"), request.query_params.get("to")
    if not f and not t:
        return reports.month_span(today)
    try:
        end = date.fromisoformat(t) if t else today
        start = date.fromisoformat(f) if f else end.replace(day=1)
    except ValueError:
        raise BadSpan(T.WEB_REPORT_BAD_DATE) from None
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        raise BadSpan(T.WEB_REPORT_OUT_OF_RANGE.format(earliest=EARLIEST, latest=LATEST))
    if end < start:
        raise BadSpan(T.WEB_REPORT_FROM_AFTER_TO.format(start=start, end=end))
    if (end - start).days >= MAX_DAYS:
        raise BadSpan(T.WEB_REPORT_TOO_LONG.format(days=MAX_DAYS))
    return start, end


def report_response(engine, settings, found: tuple[int, str], request: Request, clock) -> HTMLResponse:
    now = clock().astimezone(settings.tz)
    try:
        start, end = _span(request, now.date())
    except BadSpan as e:
        return _bad_span(str(e))
    with UnitOfWork(engine, readonly=True) as uow:
        rep = reports.build(uow.report_figures, found[0], found[1], settings.tz, (start, end), now)
    return HTMLResponse(report_html(rep), headers={"Cache-Control": "no-store"})


def _bad_span(why: str) -> HTMLResponse:
    """400: the reason in one line, and a link to this month's report (the same page, no query)."""
    return HTMLResponse(f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>报表 · 日期有误</title><link rel="stylesheet" href="../assets/report.css"></head>
<body><p class="note">{escape(why)}</p><p><a href="?">{T.WEB_REPORT_THIS_MONTH}</a></p></body></html>""",
                        status_code=400, headers={"Cache-Control": "no-store"})


def report_html(rep: reports.Report) -> str:
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
<button>查看</button> {links}</form>
<p class="swipe">{T.WEB_REPORT_SWIPE}</p>
<div class="wide"><table id="figures"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>
<p class="how">转化率 = 成交 ÷ 计名次接待；两人分单各计份额；流失公客 = 这段时间跟踪期到期、未跟进的客户。</p>
<figure class="wide">{svg.bars(data)}</figure><figure class="wide">{svg.line(data)}</figure></body></html>"""


def _tr(r: reports.Row, cls: str = "") -> str:
    cells = r.cells()
    cells[6] = reports.percent(r.conversion)
    tds = "".join(f"<td>{escape(str(v))}</td>" for v in cells)
    return f'<tr class="{cls}">{tds}</tr>' if cls else f"<tr>{tds}</tr>"
