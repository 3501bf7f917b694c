"""/看板 (the board and report links, privately), /周报 and /月报 (text and a chart)."""
from __future__ import annotations

from pathlib import Path

from handlers import commands as c
from handlers import reports
from handlers.context import Ctx
from rules.errors import Refused
from storage import boards

CHART_DIR = Path("exports")
NO_WEB = "看板未启用:请在 config.yaml 里设置 web(host、port、base_url),再运行 reception-bot web 或 run。"
TITLES = {"week": "周报", "month": "月报"}


def board_link(cmd: c.BoardLink, ctx: Ctx) -> str:
    """The links go to the manager privately: whoever has them can watch the board."""
    if not ctx.settings.web_url:
        raise Refused(NO_WEB)
    token = boards.token_of(ctx.s, ctx.project.id, ctx.now, reset=cmd.reset)
    ctx.reply_private = True
    base = ctx.settings.web_url
    head = "已换新链接,旧链接已失效。\n" if cmd.reset else ""
    return (f"{head}「{ctx.project.name}」看板(在电视上用浏览器全屏打开):\n{base}/board/{token}\n"
            f"报表:{base}/report/{token}\n请勿转发;需要换链接时发 /看板 重置。")


def period_report(cmd: c.PeriodReport, ctx: Ctx) -> str:
    """Figures for the last 7 days or this month, and the chart as a PNG file to post with them."""
    span = reports.week_span(ctx.today) if cmd.period == "week" else reports.month_span(ctx.today)
    rep = reports.build(ctx.s, ctx.project.id, ctx.project.name, ctx.settings.tz, span, ctx.now)
    text = reports.summary_text(rep, TITLES[cmd.period])
    try:
        from handlers.charts import report_png
        path = report_png(rep, CHART_DIR / f"{ctx.project.name}_{cmd.period}_{span[0]}_{span[1]}.png")
    except Exception as e:       # the text still goes; say why the chart does not
        return text + f"\n(图表未能生成:{e})"
    ctx.reply_file = str(path.resolve())
    return text
