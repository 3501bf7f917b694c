"""点名 needs the named (RULES §4): `到访 … 点名 甲` hands the visitor to 甲 only when 甲 confirms
with 接待 (or 到访 of the same customer) within `named_confirm_minutes`; 不接 or silence leaves the
visitor and the counted turn with the reporter, who is told why."""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers import commands as c
from handlers import queue_cmds
from handlers.context import Ctx
from handlers.queue_cmds import take_walk_in
from handlers.receiving import hand_over, owner_takes_over, register
from handlers.reply import Reply
from rules import customers as cr
from rules import texts as T
from rules.enums import Category
from rules.errors import Refused
from rules.visits import Visit
from storage import models as m


def ask(ctx: Ctx, me: str, named: str, seen: c.Visit, fill: m.Reception | None) -> Reply:
    """The reporter keeps the visitor (and their turn) while 甲 is asked; nothing else changes yet."""
    name, phone = seen.name, seen.phone
    if named in ctx.day.named_waiting:
        raise Refused(T.NAMED_BUSY_WAITING.format(named=named))
    r = fill
    if r is None:
        r = take_walk_in(ctx, me, Category.NEW)
    minutes = ctx.policy.named_confirm_minutes
    until = ctx.now + timedelta(minutes=minutes)
    r.nudge_at = until
    ctx.day.named_waiting[named] = {"reporter": me, "reception": r.id, "name": name, "phone": phone,
                                    "note": seen.note, "until": until.isoformat()}
    ctx.note(T.NAMED_ASK_NOTE.format(me=me, named=named, name=name))
    return Reply(T.NAMED_ASK.format(me=me, named=named, name=name, phone=cr.mask(phone), minutes=minutes),
                 mentions=(named,))


def waiting_for(ctx: Ctx, named: str, phone: str | None = None) -> bool:
    w = ctx.day.named_waiting.get(named) if ctx.day_open() else None
    return w is not None and (phone is None or w["phone"] == phone)


def confirm(ctx: Ctx, named: str) -> Reply:
    """甲 confirms: 甲 receives (named, counted); the reporter's reception ends as a handover."""
    w = ctx.day.named_waiting.pop(named)
    r = ctx.uow.receptions.get(w["reception"])
    assert r is not None, w                          # a reception id of today's (the undo restores both)
    v = Visit(Category.NAMED, named, True, named, True, T.V_NAMED_OTHER.format(name=named))
    row, lines = register(ctx, w["name"], w["phone"], v)
    _restore_nudge(ctx, r)
    handed = hand_over(ctx, w["reporter"], v, row, r)
    lines = lines + handed + owner_takes_over(ctx, v, row)
    ctx.note(T.NAMED_CONFIRMED_NOTE.format(named=named, name=row.name, me=w["reporter"]))
    return Reply("\n".join([T.NAMED_CONFIRMED.format(named=named, name=row.name, me=w["reporter"]), *lines]),
                 mentions=(w["reporter"],))


def keep(ctx: Ctx, named: str, why: str) -> tuple[str, str]:
    """不接, or no answer in time: the reporter keeps the visitor, registered to them, and the turn."""
    w = ctx.day.named_waiting.pop(named)
    r = ctx.uow.receptions.get(w["reception"])
    assert r is not None, w
    me = w["reporter"]
    v = Visit(Category.NEW, me, True)
    row, lines = register(ctx, w["name"], w["phone"], v)
    r.customer_id = row.id
    _restore_nudge(ctx, r)
    ctx.note(T.NAMED_KEPT_NOTE.format(me=me, named=named, name=row.name, why=why))
    text = T.NAMED_KEPT.format(me=me, named=named, name=row.name, phone=cr.mask(row.phone), why=why)
    return me, "\n".join([text, *lines])


def receive(cmd: c.Receive, ctx: Ctx) -> Reply:
    """接待: the named member's confirmation when a 点名 waits for them, else the walk-in."""
    if waiting_for(ctx, ctx.sender):
        return confirm(ctx, ctx.sender)
    return queue_cmds.receive(cmd, ctx)


def decline(cmd: c.Decline, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    if not waiting_for(ctx, me):
        raise Refused(T.NAMED_NOTHING_WAITING.format(me=me))
    reporter, text = keep(ctx, me, T.NAMED_WHY_DECLINED.format(named=me))
    return Reply(text, mentions=(reporter,))


def expired(ctx: Ctx, r: m.Reception) -> tuple[str, str] | None:
    """The sweep: a 点名 whose confirmation time passed stays with the reporter (None: nothing waits)."""
    for named, w in list(ctx.day.named_waiting.items() if ctx.day_open() else ()):
        if w["reception"] == r.id and datetime.fromisoformat(w["until"]) <= ctx.now:
            return keep(ctx, named, T.NAMED_WHY_TIMEOUT.format(named=named, minutes=ctx.policy.named_confirm_minutes))
    return None


def _restore_nudge(ctx: Ctx, r: m.Reception) -> None:
    """The reception's own over-time nudge comes back once the 点名 is settled."""
    if r.ended_at is None:
        nudge = ctx.local(r.started_at) + timedelta(minutes=ctx.policy.max_reception_minutes)
        r.nudge_at = nudge if nudge > ctx.now else ctx.now
