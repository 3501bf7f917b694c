"""客户登记表 commands (RULES §5, §6): 跟进 查客 我的客户 成交 申诉 /核实 /裁定 /释放."""
from __future__ import annotations

from sqlalchemy import select

from handlers import commands as c
from handlers.context import Ctx
from rules import customers as cr
from rules import deals as dr
from rules.errors import Refused
from storage import models as m

STATUS_WORDS = {cr.ACTIVE: "跟踪中", cr.LAPSED: "公客", cr.CLOSED: "已成交", cr.PENDING: "待核实"}


def follow_up(cmd: c.FollowUp, ctx: Ctx) -> str:
    me = ctx.sender
    phone = cr.normalize_phone(cmd.key)
    if phone:
        row = ctx.find_customer(phone)
    else:
        mine = [r for r in ctx.customers_named(cmd.key) if ctx.domain(r).owner_at(ctx.now) == me]
        if len(mine) != 1:
            raise Refused(f"你名下{'没有' if not mine else '有多位'}叫「{cmd.key}」的客户,请用:跟进 手机 内容。")
        row = mine[0]
    cust = ctx.domain(row)
    owner = cust.owner_at(ctx.now)
    if owner != me:
        raise Refused(f"{row.name} 不归你" + (f"(归属 {owner})" if owner else "(已是公客,请先重新登记)")
                      + ",只有归属人可以记录跟进。")
    cust.renew(ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(f"{me} 跟进 {row.name}:{cmd.content}")
    until = f",归属有效期至 {cust.valid_until:%m-%d} 24:00" if cust.valid_until else ""
    return f"已记录 {me} 对 {row.name}({cr.mask(row.phone)})的跟进{until}。"


def describe(ctx: Ctx, row: m.Customer, full_phone: bool = False) -> str:
    cust = ctx.domain(row)
    status = cust.effective_status(ctx.now)
    owner = cust.owner_at(ctx.now)
    phone = row.phone if full_phone else cr.mask(row.phone)
    text = f"{row.name}({phone}):{STATUS_WORDS[status]}"
    if owner:
        text += f",归属 {owner}"
    if status == cr.ACTIVE:
        text += f",有效期至 {cust.valid_until:%m-%d} 24:00"
    return text


def lookup(cmd: c.Lookup, ctx: Ctx) -> str:
    phone = cr.normalize_phone(cmd.key)
    rows = [ctx.find_customer(phone)] if phone else ctx.customers_named(cmd.key)
    if not rows:
        raise Refused(f"登记表里没有「{cmd.key}」。")
    return "\n".join(describe(ctx, r) for r in rows)


def my_customers(cmd: c.MyCustomers, ctx: Ctx) -> str:
    ctx.reply_private = ctx.full_phones = True
    rows = ctx.s.scalars(select(m.Customer).where(
        m.Customer.project_id == ctx.project.id, m.Customer.owner == ctx.sender)
        .order_by(m.Customer.valid_until)).all()
    rows = [r for r in rows if ctx.domain(r).owner_at(ctx.now) == ctx.sender]
    if not rows:
        return "你名下目前没有客户。"
    return f"你名下的客户({len(rows)} 位):\n" + "\n".join(describe(ctx, r, full_phone=True) for r in rows)


def verify(cmd: c.Verify, ctx: Ctx) -> str:
    row = ctx.find_customer(cmd.phone)
    cust = ctx.domain(row)
    if cust.status != cr.PENDING:
        raise Refused(f"{row.name}({cr.mask(row.phone)})不是待核实的登记。")
    if cmd.same:
        twin = next((o for o in ctx.customers_named(row.name)
                     if o.id != row.id and ctx.domain(o).owner_at(ctx.now)), None)
        if twin is None:
            raise Refused("找不到同名的有效客户,请改用 /核实 手机 不同人。")
        other = ctx.domain(twin)
        cust.owner, cust.status, cust.valid_until = other.owner, other.status, other.valid_until
        cust.last_activity_at, cust.note = other.last_activity_at, f"经理核实:与 {cr.mask(twin.phone)} 为同一人"
        ctx.save(cust, row)
        ctx.note(f"经理核实 {row.name} 为同一人,归 {other.owner}")
        return f"已核实为同一人:{row.name} 仍归 {other.owner}。"
    cust.register_to(cust.registered_by, cust.name, ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(f"经理核实 {row.name} 为不同人,登记有效,归 {cust.owner}")
    return f"已核实为不同人:{row.name}({cr.mask(row.phone)})登记有效,归属 {cust.owner}。"


def decide(cmd: c.Decide, ctx: Ctx) -> str:
    for n in cmd.names:
        ctx.salesperson(n)
    row = ctx.find_customer(cmd.phone)
    deal = ctx.s.scalars(select(m.Deal).where(m.Deal.customer_id == row.id).order_by(m.Deal.id.desc())).first()
    if deal is not None:
        a, *b = cmd.names
        deal.shares = dr.shares(a, b[0] if b else None, ctx.policy.deal_split)
        cust = ctx.domain(row)
        cust.owner = a
        ctx.save(cust, row)
        ctx.note(f"经理裁定 {row.name} 的成交业绩:{share_words(deal.shares)}")
        return f"裁定:{row.name} 的成交业绩 {share_words(deal.shares)}。"
    if len(cmd.names) != 1:
        raise Refused("未成交的客户只能归一人:/裁定 手机 归 甲。")
    cust = ctx.domain(row)
    cust.register_to(cmd.names[0], cust.name, ctx.now, ctx.policy.tracking_days)
    ctx.save(cust, row)
    ctx.note(f"经理裁定 {row.name} 归 {cmd.names[0]}")
    return f"裁定:{row.name}({cr.mask(row.phone)})归 {cmd.names[0]},有效期至 {cust.valid_until:%m-%d}。"


def release(cmd: c.Release, ctx: Ctx) -> str:
    row = ctx.find_customer(cmd.phone)
    cust = ctx.domain(row)
    if cust.status == cr.CLOSED:
        raise Refused(f"{row.name} 已成交,不能释放。")
    prev = cust.owner_at(ctx.now)
    cust.owner, cust.status, cust.valid_until = None, cr.LAPSED, None
    ctx.save(cust, row)
    ctx.note(f"经理释放 {row.name}(原归 {prev or '无'})为公客")
    return f"{row.name}({cr.mask(row.phone)})已释放为公客,下一个有效登记者获得归属。"


def share_words(shares: dict) -> str:
    return "、".join(f"{n} {round(v * 100)}%" for n, v in shares.items())


def record_deal(cmd: c.RecordDeal, ctx: Ctx) -> str:
    me = ctx.salesperson(ctx.sender)
    name, phone = cr.check_name(cmd.name), cr.check_phone(cmd.phone)
    row = ctx.customer_row(phone)
    cust = ctx.domain(row) if row else None
    lines = []
    if cust is not None and cust.status == cr.PENDING:
        raise Refused(f"{name} 的登记待经理核实(/核实),核实后再报成交。")
    if cust is None or cust.owner_at(ctx.now) is None:
        # RULES §6.3: an unowned customer needs a valid registration first; the registrant owns it
        rival = ctx.same_name_rival(name, me) if cust is None else None
        if rival:
            raise Refused(f"同名客户已归 {rival}(不同电话),请经理先 /核实。")
        if cust is None:
            cust = cr.new_customer(name, phone, me, ctx.now, ctx.policy.tracking_days)
        else:
            cust.register_to(me, name, ctx.now, ctx.policy.tracking_days)
        lines.append(f"已登记 {name} 归 {me}。")
    elif name != cust.name:
        link = f"({cmd.relation})" if cmd.relation else ""
        lines.append(f"购房人 {name}{link} 与登记人 {cust.name} 同一电话,业绩归 {cust.owner}。"
                     + ("" if cmd.relation else "如非直系亲属请经理 /裁定。"))
        if name not in cust.other_names:
            cust.other_names.append(name)
    owner = cust.owner
    helper = _same_day_helper(ctx, row.id if row else None, owner)
    shares = dr.shares(owner, helper, ctx.policy.deal_split)
    cust.close()
    row = ctx.save(cust, row)
    ctx.s.add(m.Deal(project_id=ctx.project.id, customer_id=row.id, day=ctx.today, units=cmd.units,
                     shares=shares, buyer_name=name, relation=cmd.relation, reported_by=me,
                     created_at=ctx.now))
    ctx.note(f"{me} 报成交:{row.name} {cmd.units}套,业绩 {share_words(shares)}")
    if dr.is_big_order(cmd.units, ctx.policy.big_order_units):
        for mgr in ctx.managers():
            ctx.tell(mgr, f"大单提醒:{me} 成交 {row.name}({row.phone}){cmd.units}套,"
                          f"业绩 {share_words(shares)}。")
    return f"成交登记:{row.name}({cr.mask(row.phone)}){cmd.units}套,业绩 {share_words(shares)}。" + (
        "\n" + "\n".join(lines) if lines else "")


def _same_day_helper(ctx: Ctx, customer_id: int | None, owner: str) -> str | None:
    """A helper or obligation receiver of this customer today (the latest one) shares the deal."""
    if customer_id is None:
        return None
    r = ctx.s.scalars(select(m.Reception).where(
        m.Reception.customer_id == customer_id, m.Reception.day == ctx.today,
        m.Reception.category.in_(("helper", "obligation")), m.Reception.member != owner)
        .order_by(m.Reception.id.desc())).first()
    return r.member if r else None


def appeal(cmd: c.Appeal, ctx: Ctx) -> str:
    row = ctx.find_customer(cmd.phone)
    deal = ctx.s.scalars(select(m.Deal).where(m.Deal.customer_id == row.id).order_by(m.Deal.id.desc())).first()
    if deal is None:
        raise Refused(f"{row.name} 还没有成交记录,无需申诉。")
    deadline = dr.appeal_deadline(deal.day, ctx.policy.deal_appeal_days)
    if not dr.appeal_open(deal.day, ctx.today, ctx.policy.deal_appeal_days):
        raise Refused(f"{row.name} 于 {deal.day:%m-%d} 成交,申诉期已于 {deadline:%m-%d} 结束,归属已确定,不再受理申诉。")
    ctx.s.add(m.Appeal(deal_id=deal.id, by=ctx.sender, reason=cmd.reason, at=ctx.now))
    for mgr in ctx.managers():
        ctx.tell(mgr, f"申诉:{ctx.sender} 对 {row.name}({row.phone}){deal.day:%m-%d} 的成交"
                      f"(业绩 {share_words(deal.shares)})提出申诉:{cmd.reason}\n"
                      f"裁定请发:/裁定 {row.phone} 归 甲 [乙](申诉期至 {deadline:%m-%d})")
    return f"申诉已提交给经理(申诉期至 {deadline:%m-%d})。"
