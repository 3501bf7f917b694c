"""到访 and 代接 (RULES §4, §5): classify the visit, keep the register, move the queue."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.queue_cmds import check_walk_in, makeup_for, refund, take_walk_in
from handlers.reply import Reply
from rules import customers as cr
from rules import fairness as fair
from rules import texts as T
from rules.enums import Benefit, Category
from rules.errors import Refused
from rules.queue import AVAILABLE, BUSY, PRESENCE_WORDS
from rules.visits import CATEGORY_WORDS, Visit, VisitFacts, classify
from storage import models as m

ROTATION = (Category.NEW,)
NEW_CUSTOMER = (Category.NEW, Category.NAMED, Category.BROUGHT_OPEN, Category.BROUGHT_CLOSED)


def visit(cmd: c.Visit, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    name, phone = cr.check_name(cmd.name), cr.check_phone(cmd.phone)
    row = ctx.customer_row(phone)
    cust = ctx.domain(row) if row else None
    if row is not None:
        busy_with = ctx.open_reception_of(row.id)
        if busy_with is not None:
            who = T.YOU if busy_with.member == me else busy_with.member
            raise Refused(T.BEING_RECEIVED.format(name=name, phone=cr.mask(phone), who=who))
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
    if fill is None and v.receiver == me:
        try:
            _check_may_receive(ctx, me, v)
        except Refused as r:                  # 到访 again with the right number: 更正, not /撤销
            raise Refused(_typo_hint(ctx, me, name, r.reason)) from None
    withdrawn = _withdraw_non_buyer(ctx, me, fill)
    row, lines = _register(ctx, cust, row, name, phone, v)
    if cmd.note:                              # 到访 备注 (看三居): kept on the customer, in the export
        row.note = cr.add_note(row.note, f"{ctx.now:%m-%d} {cmd.note}")
    lines = withdrawn + lines + _receive(ctx, me, v, row, fill, owner)
    head = T.VISIT_HEAD.format(me=me, name=name, phone=cr.mask(phone), category=CATEGORY_WORDS[v.category])
    told = v.receiver if v.receiver != me else owner if v.category == Category.OBLIGATION else None
    return Reply(head + ("\n" + "\n".join(lines) if lines else "")).mention(told)


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


def _withdraw_non_buyer(ctx: Ctx, me: str, fill) -> list[str]:
    """非客, then a registration in the same reception: not a non-buyer after all (RULES §4, one benefit)."""
    if fill is None:
        return []
    ctx.day.take_non_buyer(me, fill.id)
    if not fair.withdraw_on_registration(fill.category, fill.benefit):
        return []
    e = ctx.day.entry(me) if fill.day == ctx.today else None
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


def _register(ctx: Ctx, cust, row, name, phone, v: Visit) -> tuple[m.Customer, list[str]]:
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


def _receive(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill, owner) -> list[str]:
    if v.receiver != me:                     # 交给归属人 (handover / brought by their customer)
        handed = _hand_over(ctx, me, v, row, fill) if fill is not None else []
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
        ctx.start_reception(me, v.category, row.id)
    return lines


def _hand_over(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill: m.Reception) -> list[str]:
    """My open 接待 was someone else's customer: it ends as a handover; the count back (a make-up for a turn)."""
    fill.customer_id = row.id
    had = fill.counted_for is not None
    why = (T.NAMED_REFUND_WHY if v.category == Category.NAMED else T.IS_CUSTOMER_OF).format(name=row.name, owner=v.receiver)
    made_up = refund(ctx, fill, why)
    fill.category = Category.HANDOVER
    ctx.end_reception(fill)
    if made_up:
        return [T.HANDOVER_REFUNDED.format(me=me)]
    return [T.COUNT_BACK_NO_MAKEUP.format(me=me).strip()] if had else []


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
