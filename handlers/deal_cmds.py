"""成交 and 申诉 (RULES §6): one deal per customer per day, relatives, splits, appeals, big orders."""
from __future__ import annotations

import dataclasses

from handlers import commands as c
from handlers.context import Ctx
from handlers.reply import Reply, Tell
from handlers.visits import withdraw_non_buyer
from rules import customers as cr
from rules import deals as dr
from rules import fairness as fair
from rules import texts as T
from rules.enums import Benefit, BenefitKind, Category
from rules.errors import Refused
from storage import models as m

share_words = T.share_words


def record_deal(cmd: c.RecordDeal, ctx: Ctx) -> Reply:
    name, phone = cr.check_name(cmd.name), cr.check_phone(cmd.phone)
    row = ctx.customer_row(phone)
    cmd = _other_relation(ctx, cmd)
    linked = _linked(ctx, cmd, row)
    household = _household(ctx, row, phone) if linked is None else None
    linked = linked or household
    target = linked if linked is not None else row
    deal = _deal_today(ctx, target)
    if deal is not None and target is not None:      # (without a customer there is no deal today)
        return _correct(ctx, deal, target, cmd)
    me = ctx.salesperson(ctx.sender)
    note = cmd.note if linked is not None else " ".join(x for x in (cmd.linked, cmd.note) if x)
    fill = None
    if household is not None:
        _household_owner_only(ctx, household, name)
    if linked is not None:
        cust, lines = ctx.domain(linked), _record_relative(ctx, linked, name, phone, cmd.relation)
    else:
        cust, lines, fill = _buyer(ctx, row, name, phone, me, cmd.relation)
    owner = cust.owner
    if owner not in ctx.roster():
        raise Refused(T.DEAL_OWNER_GONE.format(owner=owner, name=cust.name))
    helper = _same_day_helper(ctx, target.id if target else None, owner)
    shares = dr.shares(owner, helper, ctx.policy.deal_split)
    lines += _withdraw_split_makeups(ctx, target.id if target else None, shares, owner)
    cust.close()
    target = ctx.save(cust, target)
    if fill is not None:                      # the deal fills in today's reception of this visitor (§6.3)
        lines = withdraw_non_buyer(ctx, me, fill) + lines
        fill.customer_id, fill.category = target.id, Category.NEW
    ctx.uow.deals.add(m.Deal(project_id=ctx.project.id, customer_id=target.id, day=ctx.today, units=cmd.units,
                             shares=shares, buyer_name=name, relation=cmd.relation, reported_by=me,
                             note=note, created_at=ctx.now))
    ctx.note(T.DEAL_NOTE.format(me=me, name=target.name, units=cmd.units, shares=share_words(shares)))
    told = _alert_big(ctx, me, target, cmd.units, shares)
    return Reply(T.DEAL_RECORDED.format(name=target.name, phone=cr.mask(target.phone), units=cmd.units,
                                        shares=share_words(shares)) + ("\n" + "\n".join(lines) if lines else ""),
                 tells=told)


def _buyer(ctx: Ctx, row, name: str, phone: str, me: str,
           relation: str) -> tuple[cr.Customer, list[str], m.Reception | None]:
    """The customer this phone belongs to; an unowned one is registered to the poster first, and only
    for a visitor the poster received today: the rotation is never bypassed by a 成交 (§6.3)."""
    cust = ctx.domain(row) if row else None
    if cust is not None and cust.status == cr.PENDING:
        raise Refused(T.DEAL_PENDING.format(name=name))
    if cust is None or cust.owner_at(ctx.now) is None:
        fill = _received_today(ctx, me)
        if fill is None:
            raise Refused(T.DEAL_RECEIVE_FIRST.format(me=me, name=name))
        rival = ctx.same_name_rival(name, me) if cust is None else None
        if rival:
            raise Refused(T.DEAL_SAME_NAME.format(rival=rival))
        if cust is None:
            cust = cr.new_customer(name, phone, me, ctx.now, ctx.policy.tracking_days)
        else:
            cust.register_to(me, name, ctx.now, ctx.policy.tracking_days)
        return cust, [T.DEAL_REGISTERED.format(name=name, me=me)], fill
    lines = []
    if name != cust.name:
        link = T.REASON.format(reason=relation) if relation else ""
        lines.append(T.DEAL_BUYER_LINKED.format(buyer=name, relation=link, registered=cust.name, owner=cust.owner)
                     + ("" if relation else T.DEAL_ASK_DECIDE))
        if name not in cust.other_names:
            cust.other_names.append(name)
    return cust, lines, None


def _received_today(ctx: Ctx, me: str) -> m.Reception | None:
    """My open reception that registered nobody, else my latest such reception today."""
    mine = [r for r in ctx.uow.receptions.on_day(ctx.project.id, ctx.today)
            if r.member == me and r.customer_id is None and r.category != Category.ERRAND]
    still = [r for r in mine if r.ended_at is None]
    return (still or mine)[-1] if mine else None


def _other_relation(ctx: Ctx, cmd: c.RecordDeal) -> c.RecordDeal:
    """兄弟/朋友/同事 … before a registered customer: understood, never linked (RULES §6.2);
    before anything else the words were a note."""
    if cmd.relation not in cr.OTHER_RELATIONS:
        return cmd
    phone = cr.normalize_phone(cmd.linked) if cmd.linked else None
    rows = [ctx.customer_row(phone)] if phone else ctx.customers_named(cmd.linked) if cmd.linked else []
    found = [r for r in rows if r is not None]
    if found:
        owner = ctx.domain(found[0]).owner_at(ctx.now) or T.NONE
        raise Refused(T.DEAL_NOT_DIRECT.format(relation=cmd.relation, name=found[0].name, owner=owner,
                                               phone=cr.mask(found[0].phone)))
    note = " ".join(x for x in (cmd.relation, cmd.linked, cmd.note) if x)
    return dataclasses.replace(cmd, relation="", linked="", note=note)


def _household(ctx: Ctx, row, phone: str) -> m.Customer | None:
    """A buyer whose own phone was recorded as a customer's relative belongs to that household."""
    if row is not None:
        return None
    rel = ctx.uow.relatives.by_phone(ctx.project.id, phone)
    return ctx.uow.customers.get(rel.customer_id) if rel is not None else None


def _household_owner_only(ctx: Ctx, linked: m.Customer, buyer: str) -> None:
    owner = ctx.domain(linked).owner_at(ctx.now)
    if owner is not None and ctx.sender != owner and not ctx.is_manager():
        raise Refused(T.DEAL_HOUSEHOLD.format(buyer=buyer, name=linked.name, owner=owner))


def _linked(ctx: Ctx, cmd: c.RecordDeal, row) -> m.Customer | None:
    """成交 李秀英 139… 配偶 王建国: the registered customer the relation names (RULES §6.2), or None."""
    if not (cmd.relation and cmd.linked):
        return None
    phone = cr.normalize_phone(cmd.linked)
    rows = [ctx.customer_row(phone)] if phone else ctx.customers_named(cmd.linked)
    rows = [r for r in rows if r is not None]
    if not rows and not phone and row is not None:
        return None       # the buyer's own phone is registered: the word after the relation was a note
    if len(rows) != 1:
        raise Refused((T.DEAL_LINK_SEVERAL if rows else T.DEAL_LINK_UNKNOWN).format(key=cmd.linked))
    linked = rows[0]
    owner = ctx.domain(linked).owner_at(ctx.now)
    if owner is None:
        raise Refused(T.DEAL_LINK_NO_OWNER.format(name=linked.name))
    if row is not None and row.id != linked.id and ctx.domain(row).owner_at(ctx.now) not in (None, owner):
        raise Refused(T.DEAL_LINK_CONFLICT.format(buyer=cmd.name, other=ctx.domain(row).owner, owner=owner))
    return linked


def _record_relative(ctx: Ctx, linked: m.Customer, buyer: str, phone: str, relation: str) -> list[str]:
    """The buyer is recorded as the registered customer's relative, never as a new customer."""
    rel = T.RELATIVE.format(relation=relation, buyer=buyer, phone=phone)
    if rel not in (linked.note or ""):
        linked.note = "；".join(x for x in (linked.note, rel) if x)
    if phone != linked.phone and ctx.uow.relatives.by_phone(ctx.project.id, phone) is None:
        ctx.uow.relatives.add(m.Relative(project_id=ctx.project.id, customer_id=linked.id, name=buyer,
                                         phone=phone, relation=relation or T.HOUSEHOLD_WORD,
                                         created_at=ctx.now))
    ctx.note(T.RELATIVE_NOTE.format(relation=relation, buyer=buyer, name=linked.name))
    return [T.DEAL_RELATIVE.format(buyer=buyer, relation=relation, name=linked.name, owner=linked.owner)]


def _deal_today(ctx: Ctx, row: m.Customer | None) -> m.Deal | None:
    if row is None:
        return None
    return ctx.uow.deals.of_customer_on(row.id, ctx.today)


def _correct(ctx: Ctx, deal: m.Deal, row: m.Customer, cmd: c.RecordDeal) -> Reply:
    """One deal per customer per day: a second 成交 corrects units and note (RULES §6.1)."""
    owner = next(iter(deal.shares))
    why = fair.deal_correction_refusal(ctx.sender, deal.shares, ctx.is_manager(), owner)
    if why:
        raise Refused(why)
    if cmd.units == deal.units and cmd.note in ("", deal.note):      # the same 成交 sent again
        return Reply(T.DEAL_ALREADY.format(name=row.name, phone=cr.mask(row.phone), units=deal.units,
                                           shares=share_words(deal.shares)))
    before = deal.units
    deal.units, deal.note = cmd.units, cmd.note or deal.note
    ctx.note(T.DEAL_CORRECTED_NOTE.format(me=ctx.sender, name=row.name, before=before, units=cmd.units))
    told = () if dr.is_big_order(before, ctx.policy.big_order_units) else _alert_big(
        ctx, ctx.sender, row, cmd.units, deal.shares)
    return Reply(T.DEAL_CORRECTED.format(name=row.name, phone=cr.mask(row.phone), before=before, units=cmd.units,
                                         shares=share_words(deal.shares)), tells=told)


def _alert_big(ctx: Ctx, me: str, row: m.Customer, units: int, shares: dict) -> tuple[Tell, ...]:
    """A big order: every manager is told privately."""
    if not dr.is_big_order(units, ctx.policy.big_order_units):
        return ()
    return tuple(Tell(mgr, T.BIG_ORDER.format(me=me, name=row.name, phone=row.phone, units=units,
                                              shares=share_words(shares))) for mgr in ctx.managers())


def _withdraw_split_makeups(ctx: Ctx, customer_id: int | None, shares: dict, owner: str) -> list[str]:
    """A same-day split replaces the obligation make-up its receiver still holds (RULES §4)."""
    if customer_id is None:
        return []
    lines = []
    for name in shares:
        e = ctx.day.entry(name) if name != owner else None
        if e is None:
            continue
        recs = ctx.uow.receptions.obligations(customer_id, ctx.today, name)
        if fair.withdraw_on_split(e.makeup_src, {r.id for r in recs}):
            ctx.note(*ctx.day.withdraw_makeup(name, T.WITHDRAW_WHY_SPLIT))
            for r in recs:
                r.benefit = Benefit.NONE
                ctx.take_back(name, BenefitKind.MAKEUP, r, T.WITHDRAW_WHY_SPLIT)
            lines.append(T.SPLIT_MAKEUP_WITHDRAWN.format(name=name))
    return lines


def _same_day_helper(ctx: Ctx, customer_id: int | None, owner: str) -> str | None:
    """A helper or obligation receiver of this customer today (the latest one) shares the deal."""
    if customer_id is None:
        return None
    r = ctx.uow.receptions.latest_helper(customer_id, ctx.today, owner,
                                         ctx.roster())      # a member removed from the roster is not split in
    return r.member if r else None


def appeal(cmd: c.Appeal, ctx: Ctx) -> Reply:
    row = ctx.find_customer(cmd.phone)
    deal = ctx.uow.deals.latest_of(row.id)
    if deal is None:
        return _ownership_appeal(cmd, ctx, row)
    deadline = dr.appeal_deadline(deal.day, ctx.policy.deal_appeal_days)
    if not dr.appeal_open(deal.day, ctx.today, ctx.policy.deal_appeal_days):
        raise Refused(T.APPEAL_CLOSED.format(name=row.name, day=f"{deal.day:%m-%d}", deadline=f"{deadline:%m-%d}"))
    if ctx.uow.deals.appeal_by(deal.id, ctx.sender) is not None:      # the same 申诉 sent again
        return Reply(T.APPEAL_ALREADY.format(name=row.name, deadline=f"{deadline:%m-%d}"))
    ctx.uow.deals.add(m.Appeal(deal_id=deal.id, by=ctx.sender, reason=cmd.reason, at=ctx.now))
    told = tuple(Tell(mgr, T.APPEAL_TO_MANAGER.format(
        by=ctx.sender, name=row.name, phone=row.phone, day=f"{deal.day:%m-%d}", shares=share_words(deal.shares),
        reason=cmd.reason, deadline=f"{deadline:%m-%d}")) for mgr in ctx.managers())
    return Reply(T.APPEALED.format(deadline=f"{deadline:%m-%d}"), tells=told)


def _ownership_appeal(cmd: c.Appeal, ctx: Ctx, row: m.Customer) -> Reply:
    """申诉 about a customer with no deal: an appeal of its ownership (RULES §5.9), open through the
    N-th day after the registration in dispute; one per customer, registration and person."""
    cust = ctx.domain(row)
    owner = cust.owner_at(ctx.now)
    if owner is None or owner == ctx.sender:
        raise Refused((T.APPEAL_PUBLIC if owner is None else T.APPEAL_OWN).format(name=row.name))
    registered = ctx.local(row.registered_at)
    deadline = dr.appeal_deadline(registered.date(), ctx.policy.deal_appeal_days)
    if not dr.appeal_open(registered.date(), ctx.today, ctx.policy.deal_appeal_days):
        raise Refused(T.OWNERSHIP_APPEAL_CLOSED.format(name=row.name, owner=owner, day=f"{registered:%m-%d}",
                                                       deadline=f"{deadline:%m-%d}"))
    if ctx.uow.deals.appeal_on(row.id, ctx.sender, row.registered_at) is not None:   # the same 申诉 again
        return Reply(T.APPEAL_ALREADY.format(name=row.name, deadline=f"{deadline:%m-%d}"))
    ctx.uow.deals.add(m.Appeal(customer_id=row.id, by=ctx.sender, reason=cmd.reason, at=ctx.now))
    until = cust.lapsed_from(ctx.sender, ctx.now)
    before = T.OWNERSHIP_APPEAL_LAPSE.format(until=f"{until:%m-%d}") if until else ""
    ctx.note(T.OWNERSHIP_APPEAL_NOTE.format(by=ctx.sender, name=row.name, owner=owner))
    told = tuple(Tell(mgr, T.OWNERSHIP_APPEAL_TO_MANAGER.format(
        by=ctx.sender, name=row.name, phone=row.phone, owner=owner, day=f"{registered:%m-%d %H:%M}", before=before,
        reason=cmd.reason, deadline=f"{deadline:%m-%d}")) for mgr in ctx.managers())
    return Reply(T.OWNERSHIP_APPEALED.format(name=row.name, owner=owner, deadline=f"{deadline:%m-%d}"), tells=told)
