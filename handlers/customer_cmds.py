"""客户登记表 commands (RULES §5, §6): 跟进 查客 我的客户 成交 申诉 /核实 /裁定 /释放."""
from __future__ import annotations

from datetime import timedelta

from handlers import commands as c
from handlers.context import Ctx
from handlers.queue_cmds import refund
from handlers.receiving import owner_takes_over
from handlers.reply import Reply
from rules import customers as cr
from rules import deals as dr
from rules import texts as T
from rules.enums import Category
from rules.errors import Refused
from rules.queue import AVAILABLE, BUSY
from rules.visits import Visit, own_return_counted
from storage import models as m

STATUS_WORDS = T.STATUS
share_words = T.share_words


def follow_up(cmd: c.FollowUp, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)          # a member removed from the roster no longer follows up
    phone = cr.normalize_phone(cmd.key)
    if phone or cr.masked_phone(cmd.key):                    # 跟进 138****0001 as the bot printed it
        row = ctx.find_customer(phone or cmd.key)
    else:
        named = ctx.customers_named(cmd.key)
        mine = [r for r in named if ctx.domain(r).owner_at(ctx.now) == me]
        lapsed = [r for r in named if ctx.domain(r).lapsed_from(me, ctx.now)]
        if len(mine) != 1 and len(lapsed) == 1 and not mine:
            mine = lapsed                       # mine until it lapsed: answered with the lapse (§5.9)
        if len(mine) != 1:
            raise Refused((T.FOLLOW_UP_NONE_NAMED if not mine else T.FOLLOW_UP_SEVERAL).format(name=cmd.key))
        row = mine[0]
    cust = ctx.domain(row)
    owner = cust.owner_at(ctx.now)
    if owner != me:
        raise Refused(_not_mine(ctx, row, cust, me, owner))
    cust.renew(ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(T.FOLLOW_UP_NOTE.format(me=me, name=row.name, content=cmd.content))
    until = T.FOLLOWED_UP_UNTIL.format(until=f"{cust.valid_until:%m-%d}") if cust.valid_until else ""
    return Reply(T.FOLLOWED_UP.format(me=me, name=row.name, phone=cr.mask(row.phone), until=until))


def _not_mine(ctx: Ctx, row: m.Customer, cust: cr.Customer, me: str, owner: str | None) -> str:
    """Why `me` may not follow this customer up; after a lapse of `me`'s own ownership: when it lapsed
    and who holds the customer now (RULES §5.9), never just "not yours"."""
    until = cust.lapsed_from(me, ctx.now)
    if until is None:
        return (T.FOLLOW_UP_NOT_OWNER if owner else T.FOLLOW_UP_PUBLIC).format(name=row.name, owner=owner)
    who = T.CUSTOMER_WHO.format(name=row.name, phone=cr.mask(row.phone))
    if owner is None:
        return T.FOLLOW_UP_LAPSED_PUBLIC.format(who=who, deadline=f"{until:%m-%d}")
    appeal_until = ctx.local(row.registered_at).date() + timedelta(days=ctx.policy.deal_appeal_days)
    return T.FOLLOW_UP_LAPSED_TAKEN.format(who=who, deadline=f"{until:%m-%d}", owner=owner,
                                           at=f"{ctx.local(row.registered_at):%m-%d %H:%M}",
                                           phone=cr.mask(row.phone), appeal_until=f"{appeal_until:%m-%d}")


def describe(ctx: Ctx, row: m.Customer, full_phone: bool = False) -> str:
    cust = ctx.domain(row)
    status = cust.effective_status(ctx.now)
    owner = cust.owner_at(ctx.now)
    phone = row.phone if full_phone else cr.mask(row.phone)
    text = T.DESCRIBE.format(name=row.name, phone=phone, status=STATUS_WORDS[status])
    more = ctx.phones_of(row)[1:]
    if more:                                  # one record per person (RULES §5.5): the further phones
        text += T.DESCRIBE_PHONES.format(phones="、".join(p if full_phone else cr.mask(p) for p in more))
    if owner:
        text += T.DESCRIBE_OWNER.format(owner=owner)
    if status == cr.ACTIVE:
        text += T.DESCRIBE_UNTIL.format(until=f"{cust.valid_until:%m-%d}")
    return text


def lookup(cmd: c.Lookup, ctx: Ctx) -> Reply:
    """查客 手机 | 姓名 | 138****5678 | 5678: every match, phones masked."""
    phone = cr.normalize_phone(cmd.key)
    if phone:
        rows = [ctx.find_customer(phone)]
    elif (parts := cr.masked_parts(cmd.key)) is not None:
        rows = ctx.customers_by_phone_parts(*parts)
    else:
        rows = ctx.customers_named(cmd.key)
    if not rows:
        raise Refused(T.NOT_IN_REGISTER.format(key=cmd.key))
    head = T.LOOKUP_MATCHES.format(n=len(rows)) if len(rows) > 1 else ""
    full = ctx.private and ctx.is_manager()          # a manager's private 查客 shows the full phone
    return Reply(head + "\n".join(describe(ctx, r, full_phone=full) for r in rows[:20]),
                 private=full, full_phones=full)


def my_customers(cmd: c.MyCustomers, ctx: Ctx) -> Reply:
    rows = ctx.uow.customers.owned_by(ctx.project.id, ctx.sender)
    rows = [r for r in rows if ctx.domain(r).owner_at(ctx.now) == ctx.sender]
    if not rows:
        return Reply(T.MY_NONE, private=True, full_phones=True)
    return Reply(T.MY_HEAD.format(n=len(rows)) + "\n" + "\n".join(describe(ctx, r, full_phone=True) for r in rows),
                 private=True, full_phones=True)


def verify(cmd: c.Verify, ctx: Ctx) -> Reply:
    row = ctx.find_customer(cmd.phone)
    cust = ctx.domain(row)
    if cust.status != cr.PENDING:
        raise Refused(T.NOT_PENDING.format(name=row.name, phone=cr.mask(row.phone)))
    if cmd.same:
        return _same_person(ctx, row)
    cust.register_to(cust.registered_by, cust.name, ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(T.VERIFIED_OTHER_NOTE.format(name=row.name, owner=cust.owner))
    return Reply(T.VERIFIED_OTHER.format(name=row.name, phone=cr.mask(row.phone), owner=cust.owner))


def _same_person(ctx: Ctx, row: m.Customer) -> Reply:
    """/核实 手机 同一人 (RULES §5.5): the pending registration is the existing customer — one record,
    the second phone one more of theirs, with one validity, one set of reminders and one lapse."""
    twin = next((o for o in ctx.customers_named(row.name)
                 if o.id != row.id and ctx.domain(o).owner_at(ctx.now)), None)
    owner = ctx.domain(twin).owner_at(ctx.now) if twin is not None else None
    if twin is None or owner is None:
        raise Refused(T.NO_TWIN)
    recs = ctx.uow.receptions.of_customer_by_others(row.id, ctx.today, owner)
    phone = row.phone
    ctx.merge_into(row, twin)
    ctx.note(T.VERIFIED_SAME_NOTE.format(name=twin.name, owner=owner),
             T.PHONE_MERGED_NOTE.format(phone=cr.mask(phone), name=twin.name))
    return _hand_over_after_verify(ctx, twin, owner, twin.status == cr.CLOSED, recs, phone)


def _hand_over_after_verify(ctx: Ctx, row: m.Customer, owner: str, closed: bool, recs: list[m.Reception],
                            phone: str) -> Reply:
    """/核实 同一人: today's receiver of that customer handed a colleague's customer over (RULES §4
    `handover`): the count back, a make-up for a counted rotation turn; the owner takes over if here."""
    lines, took_over = [T.VERIFIED_SAME.format(name=row.name, owner=owner, phone=cr.mask(phone))], False
    for r in recs:
        if refund(ctx, r, T.IS_CUSTOMER_OF.format(name=row.name, owner=owner)):
            lines.append(T.HANDOVER_REFUNDED.format(me=r.member))
        if r.ended_at is not None:
            continue
        if ctx.presence(owner) in (AVAILABLE, BUSY):
            r.category = Category.HANDOVER
            ctx.end_reception(r)
            counted = ctx.policy.handover_owner_counted or own_return_counted(ctx.policy, closed)
            lines += owner_takes_over(ctx, Visit(Category.HANDOVER, owner, counted, owner, True), row)
            took_over = True
        else:
            r.category, r.for_owner = Category.OBLIGATION, owner
            lines.append(T.VERIFIED_OBLIGATION.format(me=r.member, owner=owner))
    return Reply("\n".join(lines), mentions=(owner,) if took_over else ())


def decide(cmd: c.Decide, ctx: Ctx) -> Reply:
    for n in cmd.names:
        ctx.salesperson(n)
    row = ctx.find_customer(cmd.phone)
    deal = ctx.uow.deals.latest_of(row.id)
    if deal is not None:
        a, *b = cmd.names
        deal.shares = dr.shares(a, b[0] if b else None, ctx.policy.deal_split)
        cust = ctx.domain(row)
        cust.owner = a
        ctx.save(cust, row)
        ctx.note(T.DECIDED_DEAL_NOTE.format(name=row.name, shares=share_words(deal.shares)))
        return Reply(T.DECIDED_DEAL.format(name=row.name, shares=share_words(deal.shares)))
    if len(cmd.names) != 1:
        raise Refused(T.DECIDE_ONE_OWNER)
    cust = ctx.domain(row)
    cust.register_to(cmd.names[0], cust.name, ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(T.DECIDED_NOTE.format(name=row.name, owner=cmd.names[0]))
    return Reply(T.DECIDED.format(name=row.name, phone=cr.mask(row.phone), owner=cmd.names[0],
                            until=f"{cust.valid_until:%m-%d}"))


def release(cmd: c.Release, ctx: Ctx) -> Reply:
    row = ctx.find_customer(cmd.phone)
    cust = ctx.domain(row)
    if cust.status == cr.CLOSED:
        raise Refused(T.CLOSED_NO_RELEASE.format(name=row.name))
    prev = cust.owner_at(ctx.now)
    cust.owner, cust.status, cust.valid_until = None, cr.LAPSED, None
    ctx.save(cust, row)
    ctx.note(T.RELEASED_NOTE.format(name=row.name, prev=prev or T.NONE))
    return Reply(T.RELEASED.format(name=row.name, phone=cr.mask(row.phone)))
