"""/看板 and /报表 (the board's and the report pages' links, privately), /周报 and /月报 (text and a chart)."""
from __future__ import annotations

import hashlib
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
    """The board's link goes to the manager privately: whoever has it can watch the board (no figures)."""
    return _link(ctx, boards.BOARD, cmd.reset, T.BOARD_LINKS)


def report_link(cmd: c.ReportLink, ctx: Ctx) -> Reply:
    """The report pages' own link (RULES §10: sales figures are not on the board's link), privately."""
    return _link(ctx, boards.REPORT, cmd.reset, T.REPORT_LINKS)


def _link(ctx: Ctx, kind: str, reset: bool, text: str) -> Reply:
    """The link, privately, with its QR code as an image (a TV's browser or a phone scans it)."""
    if not ctx.settings.web_url:
        raise Refused(T.WEB_OFF)
    token = ctx.uow.boards.token_of(ctx.project.id, ctx.now, reset=reset, kind=kind)
    url = f"{ctx.settings.web_url}/{kind}/{token}"
    answer = text.format(head=T.BOARD_RESET if reset else "", project=ctx.project.name, base=ctx.settings.web_url,
                         token=token)
    try:
        path = qr_png(url, CHART_DIR / f"qr_{kind}_{hashlib.sha256(url.encode()).hexdigest()[:16]}.png")
    except Exception as e:          # the link still goes; say why the picture does not
        return Reply(answer + "\n" + T.LINK_NO_QR.format(why=e), private=True)
    return Reply(answer, private=True, file=str(path.resolve()))


def qr_png(url: str, path: Path) -> Path:
    """`url` as a QR code PNG (drawn offline by the qrcode package); the folder is made."""
    import qrcode

    path.parent.mkdir(parents=True, exist_ok=True)
    qrcode.make(url, box_size=10, border=4).save(str(path))
    return path


def period_report(cmd: c.PeriodReport, ctx: Ctx) -> Reply:
    """Figures for the last 7 days or this month, and the chart as a PNG file to post with them."""
    span = reports.period_span(cmd.period, cmd.which, ctx.today)
    rep = reports.build(ctx.uow.report_figures, ctx.project.id, ctx.project.name, ctx.settings.tz, span, ctx.now)
    text = reports.summary_text(rep, T.REPORT_TITLE[cmd.period])
    try:
        if ctx.draw_chart is None:
            raise RuntimeError("no chart drawer: build the App with bot.bootstrap")
        path = ctx.draw_chart(rep, CHART_DIR / f"{ctx.project.name}_{cmd.period}_{span[0]}_{span[1]}.png")
    except Exception as e:       # the text still goes; say why the chart does not
        return Reply(text + "\n" + T.REPORT_NO_CHART.format(why=e))
    return Reply(text, file=str(path.resolve()))
