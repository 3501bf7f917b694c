"""Receiving a registered visitor (RULES §4, §5): the registration itself, a reception handed to the
owner, the owner taking over; shared by 到访, 点名, 接手 and 代接."""
from __future__ import annotations

from handlers.context import Ctx
from handlers.queue_cmds import refund
from rules import customers as cr
from rules import texts as T
from rules.enums import Category
from rules.queue import AVAILABLE, BUSY
from rules.visits import Visit
from storage import models as m


def register(ctx: Ctx, name: str, phone: str, v: Visit) -> tuple[m.Customer, list[str]]:
    """The registration of a visit reported earlier (a 点名 settled later)."""
    row = ctx.customer_row(phone)
    return register_visit(ctx, ctx.domain(row) if row else None, row, name, phone, v)


def register_visit(ctx: Ctx, cust, row, name, phone, v: Visit) -> tuple[m.Customer, list[str]]:
    """有效登记: a new or public customer goes to the receiver; an owned one stays with its owner."""
    lines: list[str] = []
    days = ctx.policy.tracking_days
    if cust is None:
        rival = ctx.same_name_rival(name, v.receiver)
        cust = cr.new_customer(name, phone, v.receiver, ctx.now, days, pending=rival is not None)
        if rival:
            cust.registered_by = v.receiver
            lines.append(T.PENDING_SAME_NAME.format(rival=rival, phone=cr.mask(phone)))
        else:
            lines.append(T.REGISTERED.format(owner=v.receiver, until=f"{cust.valid_until:%m-%d}"))
        ctx.note(T.PENDING_NOTE.format(name=name, phone=cr.mask(phone), rival=rival) if rival
                 else T.REGISTERED_NOTE.format(name=name, phone=cr.mask(phone), owner=v.receiver))
    elif cust.effective_status(ctx.now) == cr.LAPSED:
        prev = cust.owner
        cust.register_to(v.receiver, name, ctx.now, days)
        until = f"{cust.valid_until:%m-%d}"
        lines.append(T.RE_REGISTERED_LAPSED.format(prev=prev, owner=v.receiver, until=until) if prev
                     else T.RE_REGISTERED_PUBLIC.format(owner=v.receiver, until=until))
        ctx.note(T.RE_REGISTERED_NOTE.format(name=name, phone=cr.mask(phone), owner=v.receiver))
    elif cust.status == cr.PENDING:
        lines.append(T.STILL_PENDING)
    else:
        if name != cust.name and name not in cust.other_names:
            cust.other_names.append(name)
            lines.append(T.OTHER_NAME.format(registered=cust.name, owner=cust.owner))
        if v.receiver == cust.owner and v.category != Category.OBLIGATION:
            cust.renew(ctx.now, days)
    return ctx.save(cust, row), lines


def hand_over(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill: m.Reception) -> list[str]:
    """My open 接待 was someone else's customer: it ends as a handover; the count back (a make-up for a turn)."""
    fill.customer_id = row.id
    had = fill.counted_for is not None
    why = (T.NAMED_REFUND_WHY if v.category == Category.NAMED else T.IS_CUSTOMER_OF).format(name=row.name, owner=v.receiver)
    made_up = refund(ctx, fill, why)
    fill.category = Category.HANDOVER
    if fill.ended_at is None:                   # (a 点名 confirmed after the reporter's 送客)
        ctx.end_reception(fill)
    if made_up:
        return [T.HANDOVER_REFUNDED.format(me=me)]
    return [T.COUNT_BACK_NO_MAKEUP.format(me=me).strip()] if had else []


def owner_takes_over(ctx: Ctx, v: Visit, row: m.Customer) -> list[str]:
    o = v.receiver
    counted = v.counted and ctx.day.entry(o) is not None
    if counted:
        ctx.note(*ctx.day.count_out_of_rotation(o))
    busy = ctx.presence(o) == BUSY
    ctx.start_reception(o, v.category, row.id, counted_for=o if counted else None)
    tag = T.COUNTED_TAG if counted else T.UNCOUNTED_TAG
    named = v.category == Category.NAMED
    ctx.note((T.NAMED_TO_NOTE if named else T.HANDED_TO_NOTE).format(name=row.name, owner=o, counted=tag))
    line = (T.PLEASE_NAMED if named else T.PLEASE_OWNER).format(name=row.name, owner=o, counted=tag)
    if busy:
        helper = default_helper(ctx, o)
        line += T.OWNER_BUSY.format(owner=o, phone=cr.mask(row.phone),
                                    helper=T.DEFAULT_HELPER.format(helper=helper) if helper else "")
    return [line]


def default_helper(ctx: Ctx, owner: str) -> str | None:
    """无指定则由排位最后的销售员帮忙接待: the last available member of the queue."""
    avail = [e.name for e in ctx.day.queue if e.presence == AVAILABLE and e.name != owner]
    return avail[-1] if avail else None
