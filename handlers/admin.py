"""轮排 board, help, the change log, /撤销, /成员, /日报 and /导出."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from bot.parser import help_text
from handlers import commands as c
from handlers.context import Ctx
from rules.errors import Refused
from rules.queue import PRESENCE_WORDS, Day
from storage import models as m


def board(cmd: c.Board, ctx: Ctx) -> str:
    if not ctx.day_open():
        return f"今天还没开班(班次 {ctx.settings.shift_start:%H:%M}–{ctx.settings.shift_end:%H:%M})。"
    nxt = ctx.day.next_up()
    lines = [f"今日轮排({ctx.today:%m-%d}):"]
    for i, e in enumerate(ctx.day.queue, 1):
        tags = [PRESENCE_WORDS[e.presence], f"{e.counted}次"]
        if e.makeup is not None:
            tags.append("补接")
        if e.name == nxt:
            tags.append("← 当值")
        lines.append(f"{i}. {e.name} " + " ".join(tags))
    if ctx.day.assigned:
        lines.append(f"经理指派:{ctx.day.assigned}")
    if ctx.policy.phone_duty:
        lines.append(f"接电话:{ctx.day.phone_duty() or '无'}")
    lines.append(f"下一位:{nxt or '无'}")
    if nxt:
        ctx.mentions.append(nxt)
    ctx.reply_card = {"title": f"今日轮排 {ctx.today:%m-%d}", "next": nxt,
                      "rows": [{"name": e.name, "presence": e.presence, "counted": e.counted,
                                "makeup": e.makeup is not None} for e in ctx.day.queue],
                      "buttons": ["接待", "送客"]}
    return "\n".join(lines)


def show_help(cmd: c.HelpText, ctx: Ctx) -> str:
    return help_text()


def undo(cmd: c.Undo, ctx: Ctx) -> str:
    """/撤销: restore the latest of today's changes not yet undone; an undo is never undone."""
    rows = ctx.s.scalars(select(m.Audit).where(
        m.Audit.project_id == ctx.project.id, m.Audit.day == ctx.today).order_by(m.Audit.id.desc()))
    target = None
    for a in rows:
        if a.kind == "undo" or a.undone_by is not None or a.undo is None:
            continue
        if a.kind == "system":
            break
        target = a
        break
    if target is None:
        raise Refused("今天没有可以撤销的操作了。")
    ctx.uow.restore(target.undo["rows"])
    ctx.day = Day.from_dict(target.undo["day"])
    ctx.audit_kind = "undo"
    ctx.undo_target = target
    ctx.note(f"撤销 {target.actor} 的「{target.command}」")
    return f"已撤销:{target.actor} 的「{target.command}」({ctx.local(target.at):%H:%M})。"


def show_log(cmd: c.ShowLog, ctx: Ctx) -> str:
    rows = ctx.s.scalars(select(m.Audit).where(
        m.Audit.project_id == ctx.project.id, m.Audit.day == ctx.today).order_by(m.Audit.id)).all()
    lines = []
    for a in rows:
        text = ";".join(a.reasons)
        if cmd.name and cmd.name != a.actor and cmd.name not in text:
            continue
        mark = "(已撤销)" if a.undone_by else ""
        lines.append(f"{ctx.local(a.at):%H:%M} {a.actor}「{a.command}」{mark}:{text}")
    if not lines:
        return "今天还没有变更记录" + (f"(与 {cmd.name} 有关)" if cmd.name else "") + "。"
    return f"今日记录({ctx.today:%m-%d}):\n" + "\n".join(lines[-40:])


def roster(cmd: c.Roster, ctx: Ctx) -> str:
    ctx._members = None
    try:
        return _roster(cmd, ctx)
    finally:
        ctx._members = None


def _roster(cmd: c.Roster, ctx: Ctx) -> str:
    row = ctx.s.scalars(select(m.Member).where(
        m.Member.project_id == ctx.project.id, m.Member.name == cmd.name)).first()
    if cmd.action == "添加":
        if row is not None and row.active and row.role in ("sales", "both"):
            raise Refused(f"{cmd.name} 已在名单里。")
        pos = max((x.position for x in ctx.members()), default=0) + 1
        if row is None:
            ctx.s.add(m.Member(project_id=ctx.project.id, name=cmd.name, role="sales", position=pos))
        else:
            row.active, row.position = True, pos
            row.role = "both" if row.role in ("manager", "both") else "sales"
        ctx.note(f"经理把 {cmd.name} 加入名单(排在最后)")
        return f"{cmd.name} 已加入名单,排在最后;签到后参加轮排。"
    if row is None or not row.active:
        raise Refused(f"名单里没有「{cmd.name}」。")
    if cmd.action == "移除":
        if row.role in ("manager", "both") and len(ctx.managers()) == 1 and row.role == "manager":
            raise Refused("不能移除唯一的经理。")
        if ctx.open_receptions(cmd.name):
            raise Refused(f"{cmd.name} 还有接待中的客户,请先送客。")
        row.active = False
        if ctx.day.entry(cmd.name):
            ctx.day.queue = [e for e in ctx.day.queue if e.name != cmd.name]
        ctx.note(f"经理把 {cmd.name} 移出名单")
        return f"{cmd.name} 已移出名单。"
    row.role = "both" if row.role in ("sales", "both") else "manager"
    ctx.note(f"{cmd.name} 成为经理")
    return f"{cmd.name} 现在是本项目的经理。"


def daily_summary(cmd: c.DailySummary, ctx: Ctx) -> str:
    return summary_text(ctx, ctx.today)


def summary_text(ctx: Ctx, day: date) -> str:
    recs = ctx.s.scalars(select(m.Reception).where(
        m.Reception.project_id == ctx.project.id, m.Reception.day == day)).all()
    per: dict[str, list[int]] = {}
    for r in recs:
        if r.category == "errand":
            continue
        per.setdefault(r.member, [0, 0])[0 if r.counted_for == r.member else 1] += 1
    deals = ctx.s.scalars(select(m.Deal).where(m.Deal.project_id == ctx.project.id, m.Deal.day == day)).all()
    tomorrow_end = ctx.at(day + timedelta(days=1), time(23, 59, 59))
    lapsing = ctx.s.scalars(select(m.Customer).where(
        m.Customer.project_id == ctx.project.id, m.Customer.status == "active",
        m.Customer.valid_until == tomorrow_end)).all()
    lines = [f"【{day:%m-%d} 日报】{ctx.project.name}"]
    lines.append("接待:" + ("、".join(f"{n} 计{a}/不计{b}" for n, (a, b) in per.items()) or "无"))
    from handlers.customer_cmds import share_words
    from rules.customers import mask
    names = {r.id: r for r in ctx.s.scalars(select(m.Customer).where(
        m.Customer.id.in_([d.customer_id for d in deals])))} if deals else {}
    lines.append("成交:" + ("、".join(f"{names[d.customer_id].name}({mask(names[d.customer_id].phone)})"
                                    f"{d.units}套 {share_words(d.shares)}" for d in deals) or "无"))
    lines.append("明天到期:" + ("、".join(f"{c.name}({c.owner})" for c in lapsing) or "无"))
    return "\n".join(lines)


def export(cmd: c.Export, ctx: Ctx) -> str:
    from bot.export import write_workbook
    try:
        start = date.fromisoformat(_iso(cmd.start)) if cmd.start else ctx.today.replace(day=1)
        end = date.fromisoformat(_iso(cmd.end)) if cmd.end else ctx.today
    except ValueError:
        raise Refused("日期格式应为 YYYY-MM-DD,例如 /导出 2026-11-01 2026-11-30。") from None
    if end < start:
        raise Refused("结束日期早于起始日期。")
    path = write_workbook(ctx, start, end)
    ctx.reply_private = True
    ctx.reply_file = str(path.resolve())
    return f"导出完成({start} 至 {end}):{path}"


def _iso(s: str) -> str:
    y, mth, d = s.split("-")
    return f"{int(y):04d}-{int(mth):02d}-{int(d):02d}"
