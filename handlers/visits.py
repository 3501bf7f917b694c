"""到访 and 代接 (RULES §4, §5): classify the visit, keep the register, move the queue."""
from __future__ import annotations

from dataclasses import replace

from handlers import commands as c
from handlers import named_cmds
from handlers.context import Ctx
from handlers.queue_cmds import REGISTERING, check_walk_in, makeup_for, refund, take_walk_in
from handlers.receiving import default_helper, hand_over, owner_takes_over, register_visit
from handlers.reply import Reply
from rules import customers as cr
from rules import fairness as fair
from rules import texts as T
from rules.enums import Benefit, BenefitKind, Category
from rules.errors import Refused
from rules.queue import AVAILABLE, BUSY, PRESENCE_WORDS
from rules.visits import CATEGORY_WORDS, Visit, VisitFacts, classify
from storage import models as m

ROTATION = (Category.NEW,)
NEW_CUSTOMER = REGISTERING
UNCOUNTED_NEW = (Category.BROUGHT_OPEN, Category.BROUGHT_CLOSED)       # a new walk-in, uncounted by 带访
OWN_RETURN = (Category.OWN_RETURN_OPEN, Category.OWN_RETURN_CLOSED)


def visit(cmd: c.Visit, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    name, phone = cr.check_name(cmd.name), cr.check_phone(cmd.phone)
    if named_cmds.waiting_for(ctx, me, phone):          # 甲 confirms the 点名 by reporting the visit
        return named_cmds.confirm(ctx, me)
    row = ctx.customer_row(phone)
    cust = ctx.domain(row) if row else None
    if row is not None and (busy_with := ctx.open_reception_of(row.id)) is not None:
        return _already_received(ctx, me, busy_with, name, phone)
    referrer = _referrer(ctx, cmd.referrer)
    named_for = _colleague(ctx, cmd.named_for)
    owner = cust.owner_at(ctx.now) if cust else None
    ref_owner = referrer.owner_at(ctx.now) if referrer else None
    facts = VisitFacts(reporter=me, owner=owner, owner_closed=bool(cust and cust.status == cr.CLOSED),
                       owner_presence=ctx.presence(owner), named=cmd.named, referrer_owner=ref_owner,
                       referrer_closed=bool(referrer and referrer.status == cr.CLOSED),
                       referrer_owner_presence=ctx.presence(ref_owner),
                       repeat_today=bool(row and ctx.received_today(row.id)), in_shift=ctx.in_shift(),
                       named_for=named_for, named_presence=ctx.presence(named_for))
    v = classify(facts, ctx.policy)
    fill = next((r for r in ctx.open_receptions(me) if r.customer_id is None), None)
    if v.category == Category.NAMED and v.receiver != me:    # 点名 甲: handed on only when 甲 confirms
        return named_cmds.ask(ctx, me, v.receiver, replace(cmd, name=name, phone=phone), fill)
    if fill is None and v.receiver == me:
        try:
            _check_may_receive(ctx, me, v)
        except Refused as r:                  # 到访 again with the right number: 更正, not /撤销
            raise Refused(_typo_hint(ctx, me, name, r.reason)) from None
    withdrawn = withdraw_non_buyer(ctx, me, fill)
    row, lines = register_visit(ctx, cust, row, name, phone, v)
    if cmd.note:                              # 到访 备注 (看三居): kept on the customer, in the export
        row.note = cr.add_note(row.note, f"{ctx.now:%m-%d} {cmd.note}")
    lines = withdrawn + lines + _receive(ctx, me, v, row, fill, owner)
    head = T.VISIT_HEAD.format(me=me, name=name, phone=cr.mask(phone), category=CATEGORY_WORDS[v.category])
    told = v.receiver if v.receiver != me else owner if v.category == Category.OBLIGATION else None
    return Reply(head + ("\n" + "\n".join(lines) if lines else "")).mention(told)


def _already_received(ctx: Ctx, me: str, busy_with: m.Reception, name: str, phone: str) -> Reply:
    """The visitor is in a colleague's open reception (RULES §3.10): my empty 接待 ends at once,
    uncounted, with a refund for a counted rotation turn; without one, nothing to change."""
    who = T.YOU if busy_with.member == me else busy_with.member
    being = T.BEING_RECEIVED.format(name=name, phone=cr.mask(phone), who=who)
    fill = next((r for r in ctx.open_receptions(me) if r.customer_id is None), None)
    if fill is None or busy_with.member == me:
        raise Refused(being)
    had = fill.counted_for is not None
    made_up = refund(ctx, fill, T.ALREADY_RECEIVED_WHY.format(name=name, who=who))
    fill.customer_id, fill.category = busy_with.customer_id, Category.HANDOVER
    ctx.end_reception(fill)
    ctx.note(T.ALREADY_RECEIVED_NOTE.format(me=me, name=name, who=who))
    tail = T.HANDOVER_REFUNDED if made_up else T.COUNT_BACK_NO_MAKEUP if had else T.RECEPTION_ENDED
    return Reply(being + "\n" + tail.format(me=me).strip())


def _typo_hint(ctx: Ctx, me: str, name: str, reason: str) -> str:
    """A refused 到访 whose name is that of the customer `me` is receiving, registered today: the
    phone was likely mistyped; the refusal says how to correct it (RULES §5.8)."""
    for r in ctx.open_receptions(me):
        row = ctx.uow.customers.get(r.customer_id) if r.customer_id else None
        if row is not None and row.name == name and ctx.local(row.registered_at).date() == ctx.today:
            return reason + "\n" + T.TYPO_HINT.format(name=name, phone=cr.mask(row.phone))
    return reason


def _colleague(ctx: Ctx, name: str) -> str | None:
    """点名 甲: 甲 when 甲 is on the roster (anything else after 点名 is a note)."""
    return name if name and name in ctx.roster() else None


def withdraw_non_buyer(ctx: Ctx, me: str, fill) -> list[str]:
    """非客, then a registration in the same reception: not a non-buyer after all (RULES §4, one benefit)."""
    if fill is None:
        return []
    ctx.day.take_non_buyer(me, fill.id)
    if not fair.withdraw_on_registration(fill.category, fill.benefit):
        return []
    e = ctx.day.entry(me) if fill.day == ctx.today else None
    ctx.take_back(me, BenefitKind.REFUND, fill, T.WITHDRAW_WHY_REGISTERED)
    if e is not None and e.makeup_src == fill.id:
        ctx.note(*ctx.day.withdraw_makeup(me, T.WITHDRAW_WHY_REGISTERED, recount=True))
    elif e is not None:
        ctx.note(*ctx.day.recount(me, T.WITHDRAW_WHY_REGISTERED))
    fill.counted_for, fill.benefit, fill.kind = me, Benefit.NONE, ""
    return [T.NON_BUYER_WITHDRAWN.format(me=me)]


def _referrer(ctx: Ctx, raw: str | None) -> cr.Customer | None:
    if not raw:
        return None
    phone = cr.check_phone(raw)
    row = ctx.customer_row(phone)
    if row is None:
        raise Refused(T.REFERRER_UNKNOWN.format(phone=cr.mask(phone)))
    return ctx.domain(row)


def _check_may_receive(ctx: Ctx, me: str, v: Visit) -> None:
    """A fresh reception by the reporter: walk-ins need the turn, new customers need a free hand."""
    if v.category in ROTATION:
        if ctx.in_shift():
            check_walk_in(ctx, me)
        return
    e = ctx.day.entry(me) if ctx.day_open() else None
    if v.counted and e is None:
        ctx.require_in_queue(me)
    if v.category in NEW_CUSTOMER and e is not None and e.presence == BUSY and e.approved <= 0:
        raise Refused(T.BUSY_NO_NEW.format(name=me))


def _receive(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill, owner) -> list[str]:
    if v.receiver != me:                     # 交给归属人 (handover / brought by their customer)
        handed = hand_over(ctx, me, v, row, fill) if fill is not None else []
        return handed + owner_takes_over(ctx, v, row)
    if v.category == Category.OBLIGATION:
        return _obligation(ctx, me, v, row, fill, owner)
    lines: list[str] = []
    if fill is not None:                      # filling in my open 接待
        fill.customer_id, fill.category = row.id, v.category
        if not v.counted and fill.counted_for:
            if refund(ctx, fill, CATEGORY_WORDS[v.category]):
                lines.append(T.UNCOUNTED_REFUNDED.format(category=CATEGORY_WORDS[v.category], me=me))
        return lines
    if v.category in ROTATION:
        take_walk_in(ctx, me, v.category, row.id)
    elif v.counted:
        ctx.note(*ctx.day.count_out_of_rotation(me))
        ctx.start_reception(me, v.category, row.id, counted_for=me)
    else:
        ctx.note(T.RECEIVES_UNCOUNTED_NOTE.format(me=me, category=CATEGORY_WORDS[v.category]))
        next_up = ctx.day_open() and ctx.in_shift() and ctx.day.next_up() == me
        r = ctx.start_reception(me, v.category, row.id)
        if v.category in UNCOUNTED_NEW or (next_up and v.category in OWN_RETURN):   # RULES §9a
            ctx.grant(me, BenefitKind.UNCOUNTED, CATEGORY_WORDS[v.category], r)
    return lines


def _obligation(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill, owner: str) -> list[str]:
    """义务接待: I receive the owner's customer (the owner is told); an open 接待 of mine becomes it, uncounted."""
    if fill is not None:
        if fill.counted_for:
            ctx.note(*ctx.day.uncount(me))
            fill.counted_for = None
        fill.customer_id, fill.category, fill.for_owner = row.id, Category.OBLIGATION, owner
    else:
        ctx.start_reception(me, Category.OBLIGATION, row.id, for_owner=owner)
    return [T.OBLIGATION_TERMS.format(why=v.why, owner=owner, me=me)]


def help_receive(cmd: c.HelpReceive, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    row = ctx.masked_customer(cmd.phone)             # 代接 138****0001 as the bot printed it
    phone = row.phone if row is not None else cr.check_phone(cmd.phone)
    row = row or ctx.customer_row(phone)
    if row is None:
        raise Refused(T.HELP_UNKNOWN.format(phone=cr.mask(phone)))
    owner = ctx.domain(row).owner_at(ctx.now)
    if owner is None or owner == me:
        raise Refused((T.HELP_NO_OWNER if owner is None else T.HELP_OWN).format(name=row.name))
    if ctx.presence(owner) == AVAILABLE:
        raise Refused(T.HELP_OWNER_HERE.format(owner=owner))
    why = fair.help_refusal(me, owner, ctx.presence(owner), ctx.day.helpers.get(owner),
                            default_helper(ctx, owner), ctx.presence(me))
    if why:
        raise Refused(why)
    ctx.day.forget_helper(owner)
    lines = []
    current = ctx.open_reception_of(row.id)
    if current is not None:
        if current.member == me:
            raise Refused(T.HELP_ALREADY.format(name=row.name))
        ctx.end_reception(current)
        if current.category == Category.OBLIGATION and makeup_for(ctx, current, T.MAKEUP_WHY_HANDED):
            lines.append(T.HELP_HANDED_OVER.format(member=current.member))
    ctx.start_reception(me, Category.HELPER, row.id, for_owner=owner)
    presence = ctx.presence(owner)
    where = T.ABSENT_WORD if presence is None else PRESENCE_WORDS.get(presence, T.ABSENT_WORD)
    ctx.note(T.HELP_NOTE.format(me=me, owner=owner, where=where, name=row.name))
    return Reply(T.HELPING.format(me=me, owner=owner, name=row.name, phone=cr.mask(phone))
                 + ("\n" + "\n".join(lines) if lines else ""), mentions=(owner,))


def name_helper(cmd: c.NameHelper, ctx: Ctx) -> Reply:
    """让 甲 代接: the owner, busy or away, names who receives their old customer (RULES §4)."""
    me = ctx.salesperson(ctx.sender)
    helper = ctx.salesperson(cmd.name)
    ctx.require_open()
    if helper == me:
        raise Refused(T.NAME_HELPER_SELF)
    if ctx.presence(me) == AVAILABLE:
        raise Refused(T.NAME_HELPER_HERE.format(me=me))
    ctx.require_in_queue(helper)
    ctx.day.name_helper(me, helper)
    ctx.note(T.NAME_HELPER_NOTE.format(owner=me, helper=helper))
    return Reply(T.NAMED_HELPER.format(owner=me, helper=helper), mentions=(helper,))
