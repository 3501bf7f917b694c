"""/看板 (the board and report links, privately), /周报 and /月报 (text and a chart)."""
from __future__ import annotations

from pathlib import Path

from handlers import commands as c
from handlers import reports
from handlers.context import Ctx
from handlers.reply import Reply
from rules import texts as T
from rules.errors import Refused
from storage import boards

CHART_DIR = Path("exports")


def board_link(cmd: c.BoardLink, ctx: Ctx) -> Reply:
    """The links go to the manager privately: whoever has them can watch the board."""
    if not ctx.settings.web_url:
        raise Refused(T.WEB_OFF)
    token = boards.token_of(ctx.s, ctx.project.id, ctx.now, reset=cmd.reset)
    return Reply(T.BOARD_LINKS.format(head=T.BOARD_RESET if cmd.reset else "", project=ctx.project.name,
                                      base=ctx.settings.web_url, token=token), private=True)


def period_report(cmd: c.PeriodReport, ctx: Ctx) -> Reply:
    """Figures for the last 7 days or this month, and the chart as a PNG file to post with them."""
    span = reports.period_span(cmd.period, cmd.which, ctx.today)
    rep = reports.build(ctx.s, ctx.project.id, ctx.project.name, ctx.settings.tz, span, ctx.now)
    text = reports.summary_text(rep, T.REPORT_TITLE[cmd.period])
    try:
        from handlers.charts import report_png
        path = report_png(rep, CHART_DIR / f"{ctx.project.name}_{cmd.period}_{span[0]}_{span[1]}.png")
    except Exception as e:       # the text still goes; say why the chart does not
        return Reply(text + "\n" + T.REPORT_NO_CHART.format(why=e))
    return Reply(text, file=str(path.resolve()))
