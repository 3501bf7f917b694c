"""接手 (RULES §3.12): the owner, available again, takes their customer back from the colleague
receiving them; the colleague's reception ends as a handover and there is no split."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.queue_cmds import makeup_for, refund
from handlers.reply import Reply
from handlers.visits import visit
from rules import customers as cr
from rules import texts as T
from rules.enums import Category
from rules.errors import Refused
from rules.queue import AVAILABLE, BUSY
from rules.visits import own_return_counted
from storage import models as m


def take_over(cmd: c.TakeOver, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    row = ctx.find_customer(cmd.phone)
    current = ctx.open_reception_of(row.id)
    if current is None or current.member == me:
        if cmd.by_visit:                        # 到访 手机 with nobody receiving them: a plain visit
            return visit(c.Visit(row.name, row.phone), ctx)
        raise Refused(T.TAKE_OVER_NOTHING.format(name=row.name, phone=cr.mask(row.phone)))
    cust = ctx.domain(row)
    owner = cust.owner_at(ctx.now)
    if owner != me:
        raise Refused((T.TAKE_OVER_NOT_OWNER if owner else T.TAKE_OVER_PUBLIC).format(
            name=row.name, owner=owner, who=current.member))
    if ctx.presence(me) not in (AVAILABLE, BUSY):
        raise Refused(T.TAKE_OVER_NOT_HERE.format(me=me))
    lines = _end_colleagues(ctx, current, row)
    counted = own_return_counted(ctx.policy, cust.status == cr.CLOSED) and ctx.day.entry(me) is not None \
        and ctx.in_shift() and not ctx.counted_for_customer_today(me, row.id)
    if counted:
        ctx.note(*ctx.day.count_out_of_rotation(me))
    closed = cust.status == cr.CLOSED
    ctx.start_reception(me, Category.OWN_RETURN_CLOSED if closed else Category.OWN_RETURN_OPEN, row.id,
                        counted_for=me if counted else None)
    cust.renew(ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(T.TAKE_OVER_NOTE.format(me=me, name=row.name, who=current.member))
    head = T.TOOK_OVER.format(me=me, name=row.name, phone=cr.mask(row.phone), who=current.member,
                              counted=T.COUNTED_TAG if counted else T.UNCOUNTED_TAG)
    return Reply("\n".join([head, *lines]), mentions=(current.member,))


def _end_colleagues(ctx: Ctx, r: m.Reception, row: m.Customer) -> list[str]:
    """The colleague's reception ends as a handover: the count back, a make-up only for a counted turn."""
    why = T.IS_CUSTOMER_OF.format(name=row.name, owner=ctx.sender)
    if r.counted_for is not None:
        made_up = refund(ctx, r, why)
    else:
        made_up = makeup_for(ctx, r, T.MAKEUP_WHY_TAKEN_OVER)
    r.category, r.for_owner = Category.HANDOVER, None
    ctx.end_reception(r)
    return [T.GOT_MAKEUP.format(name=r.member)] if made_up else []
