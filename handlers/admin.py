"""轮排 board, help, the change log, /撤销, /成员, /日报 and /导出."""
from __future__ import annotations

from datetime import date, time, timedelta

from handlers import commands as c
from handlers.context import Ctx
from handlers.export_rows import export_path, sheets
from handlers.queue_cmds import next_line
from handlers.reply import Reply, Tell
from rules import texts as T
from rules.customers import mask
from rules.deals import is_big_order
from rules.enums import AuditKind, Category, Presence
from rules.errors import Refused
from rules.queue import PRESENCE_WORDS, Day


def board(cmd: c.Board, ctx: Ctx) -> Reply:
    if not ctx.day_open():
        return Reply(T.NOT_OPEN_BOARD.format(start=f"{ctx.settings.shift_start:%H:%M}",
                                             end=f"{ctx.settings.shift_end:%H:%M}"))
    nxt = ctx.day.next_up()
    lines = [T.BOARD_HEAD.format(date=f"{ctx.today:%m-%d}")]
    for i, e in enumerate(ctx.day.queue, 1):
        tags = [PRESENCE_WORDS[e.presence], T.BOARD_TIMES.format(n=e.counted)]
        if e.makeup is not None:
            tags.append(T.BOARD_MAKEUP)
        if e.name == nxt:
            tags.append(T.BOARD_ON_DUTY)
        lines.append(f"{i}. {e.name} " + " ".join(tags))
    if ctx.day.assigned:
        lines.append(T.BOARD_ASSIGNED.format(name=ctx.day.assigned))
    if ctx.policy.phone_duty:
        lines.append(T.BOARD_PHONE_DUTY.format(name=ctx.day.phone_duty() or T.NONE))
    lines.append(next_line(ctx.day))
    card = {"title": T.CARD_TITLE.format(date=f"{ctx.today:%m-%d}"), "buttons": ["接待", "送客"]}
    return Reply("\n".join(lines), card=card).mention(nxt)


def show_help(cmd: c.HelpText, ctx: Ctx) -> Reply:
    """帮助: the salesperson commands (short enough for a group), 帮助 经理, or 帮助 <command>."""
    if not cmd.topic:
        return Reply(T.HELP_SALES)
    if cmd.topic == "经理":
        return Reply(T.HELP_MANAGER)
    if not cmd.usage:
        return Reply(T.HELP_UNKNOWN_TOPIC.format(topic=cmd.topic))
    return Reply(T.HELP_TOPIC.format(usage=cmd.usage, detail=T.HELP_DETAILS.get(cmd.topic, T.HELP_MORE)))


def undo(cmd: c.Undo, ctx: Ctx) -> Reply:
    """/撤销: restore the latest of today's changes not yet undone; an undo is never undone.

    The scheduler's own changes since then (a reception over time) are restored with it: their due
    times come back, so the scheduler does them again where they still apply. The scheduler's
    opening of the day is where /撤销 stops."""
    rows = ctx.uow.audit.of_day(ctx.project.id, ctx.today, newest_first=True)
    passed, target = [], None
    for a in rows:
        if a.kind == AuditKind.UNDO or a.undone_by is not None or a.undo is None:
            continue
        if a.kind == AuditKind.SYSTEM:
            if a.undo["day"].get("date") != ctx.today.isoformat():      # it opened the day
                break
            passed.append(a)
            continue
        target = a
        break
    if target is None:
        raise Refused(T.NOTHING_TO_UNDO)
    # every one has before-images (the search above passed over those without); target's come last
    images = [a.undo for a in (*passed, target) if a.undo is not None]
    told = _big_orders_undone(ctx, [row for image in images for row in image["rows"]])
    for image in images:                         # newest first: each restores what the one after it saw
        ctx.uow.restore(image["rows"])
    ctx.day = Day.from_dict(images[-1]["day"])
    ctx.take_facts()                             # the counts as the restored rows have them
    _opening_due_again(ctx)
    ctx.note(T.UNDO_NOTE.format(actor=target.actor, command=target.command))
    return Reply(T.UNDONE.format(actor=target.actor, command=target.command, time=f"{ctx.local(target.at):%H:%M}"),
                 undo=(*passed, target), tells=told)


def _big_orders_undone(ctx: Ctx, rows: list[list]) -> tuple[Tell, ...]:
    """Deals that raised a big-order alert and are gone (or no longer big) once `rows` are restored:
    every manager is told, as every manager was told of the big order (RULES §6)."""
    big = ctx.policy.big_order_units
    before = {i: img for table, i, img in rows if table == "deals"}
    gone = [d for d in ctx.uow.deals.on_day(ctx.project.id, ctx.today) if d.id in before
            and is_big_order(d.units, big) and (before[d.id] is None or not is_big_order(before[d.id]["units"], big))]
    if not gone:
        return ()
    names = ctx.uow.customers.by_ids([d.customer_id for d in gone])
    return tuple(Tell(mgr, T.BIG_ORDER_UNDONE.format(actor=ctx.sender, name=names[d.customer_id].name,
                                                      phone=names[d.customer_id].phone, units=d.units))
                 for d in gone for mgr in ctx.managers())


def _opening_due_again(ctx: Ctx) -> None:
    """An undone /开班 that stood in for today's scheduled opening: the scheduler opens the day now."""
    p = ctx.project
    if (not ctx.day_open() and p.next_open_at is not None and ctx.local(p.next_open_at).date() > ctx.today
            and ctx.now.time() < ctx.settings.shift_end):
        p.next_open_at = ctx.now


LOG_CAP = 40           # /记录 shows the latest 40 lines in the group; /记录 全部 the whole day, privately


def show_log(cmd: c.ShowLog, ctx: Ctx) -> Reply:
    whole = cmd.name == T.LOG_ALL_WORD
    about = "" if whole else cmd.name
    lines = []
    for a in ctx.uow.audit.of_day(ctx.project.id, ctx.today):
        text = "；".join(a.reasons)
        if about and about != a.actor and about not in text:
            continue
        mark = T.LOG_UNDONE_MARK if a.undone_by else ""
        lines.append(T.LOG_LINE.format(time=f"{ctx.local(a.at):%H:%M}", actor=a.actor, command=a.command,
                                       mark=mark, reasons=text))
    if not lines:
        return Reply(T.LOG_EMPTY.format(about=T.LOG_ABOUT.format(name=about) if about else ""))
    head = T.LOG_HEAD.format(date=f"{ctx.today:%m-%d}")
    if whole:
        return Reply(head + "\n" + "\n".join(lines), private=True)
    earlier = len(lines) - LOG_CAP
    more = [T.LOG_MORE.format(n=earlier)] if earlier > 0 else []
    return Reply("\n".join([head, *more, *lines[-LOG_CAP:]]))


def daily_summary(cmd: c.DailySummary, ctx: Ctx) -> Reply:
    return Reply(summary_text(ctx, ctx.today))


def summary_text(ctx: Ctx, day: date) -> str:
    recs = ctx.uow.receptions.on_day(ctx.project.id, day)
    per: dict[str, list[int]] = {}
    for r in recs:
        if r.category == Category.ERRAND:
            continue
        if r.counted_for:                        # counted for whom it was counted (a helper's for the owner)
            per.setdefault(r.counted_for, [0, 0])[0] += 1
        if r.counted_for != r.member:            # the receiver's uncounted ones: one definition with reports
            per.setdefault(r.member, [0, 0])[1] += 1
    deals = ctx.uow.deals.on_day(ctx.project.id, day)
    tomorrow_end = ctx.at(day + timedelta(days=1), time(23, 59, 59))
    lapsing = ctx.uow.customers.lapsing_at(ctx.project.id, tomorrow_end)
    lines = [T.SUMMARY_HEAD.format(date=f"{day:%m-%d}", project=ctx.project.name)]
    lines.append(T.SUMMARY_RECEPTIONS.format(items="、".join(
        T.SUMMARY_RECEPTION_ITEM.format(name=n, counted=a, uncounted=b) for n, (a, b) in per.items()) or T.NONE))
    names = ctx.uow.customers.by_ids([d.customer_id for d in deals]) if deals else {}
    lines.append(T.SUMMARY_DEALS.format(items="、".join(
        T.SUMMARY_DEAL_ITEM.format(name=names[d.customer_id].name, phone=mask(names[d.customer_id].phone),
                                   units=d.units, shares=T.share_words(d.shares)) for d in deals) or T.NONE))
    lines.append(T.SUMMARY_LAPSING.format(items="、".join(
        T.SUMMARY_LAPSING_ITEM.format(name=c.name, owner=c.owner) for c in lapsing) or T.NONE))
    return "\n".join(lines + _benefit_lines(ctx, day))


def _benefit_lines(ctx: Ctx, day: date) -> list[str]:
    """Each member's benefits of the day, and each 外出/暂离 with its reason and duration (RULES §9a)."""
    benefits = ctx.uow.benefits.on_day(ctx.project.id, day)
    aways = ctx.uow.aways.on_day(ctx.project.id, day)
    items = [T.SUMMARY_BENEFIT_ITEM.format(
        member=b.member, time=f"{ctx.local(b.at):%H:%M}", what=T.BENEFIT_WORDS[b.kind], reason=b.reason,
        withdrawn=T.SUMMARY_WITHDRAWN if b.withdrawn_by else "") for b in sorted(benefits, key=lambda b: b.member)]
    spans = []
    for a in sorted(aways, key=lambda a: a.member):
        end = ctx.local(a.ended_at) if a.ended_at else None
        minutes = int(((end or ctx.now) - ctx.local(a.started_at)).total_seconds() // 60)
        spans.append(T.SUMMARY_AWAY_ITEM.format(
            member=a.member, word=T.PRESENCE[Presence(a.kind)], start=f"{ctx.local(a.started_at):%H:%M}",
            end=f"{end:%H:%M}" if end else T.SUMMARY_AWAY_OPEN, minutes=max(minutes, 0),
            reason="，" + a.reason if a.reason else ""))
    return [T.SUMMARY_BENEFITS.format(items="、".join(items) or T.NONE),
            T.SUMMARY_AWAYS.format(items="、".join(spans) or T.NONE)]


def export(cmd: c.Export, ctx: Ctx) -> Reply:
    try:
        start = date.fromisoformat(_iso(cmd.start)) if cmd.start else ctx.today.replace(day=1)
        end = date.fromisoformat(_iso(cmd.end)) if cmd.end else ctx.today
    except ValueError:
        raise Refused(T.EXPORT_BAD_DATE) from None
    if end < start:
        raise Refused(T.EXPORT_END_BEFORE_START)
    if start.year < 2000 or end.year > 2099:
        raise Refused(T.EXPORT_RANGE)
    if ctx.write_workbook is None:
        raise RuntimeError("no workbook writer: build the App with bot.bootstrap")
    path = export_path(ctx.project.name, start, end)
    ctx.write_workbook(path, sheets(ctx, start, end))
    return Reply(T.EXPORTED.format(start=start, end=end, path=path), private=True, file=str(path.resolve()))


def _iso(s: str) -> str:
    y, mth, d = s.split("-")
    return f"{int(y):04d}-{int(mth):02d}-{int(d):02d}"
