"""到访 and 代接 (RULES §4, §5): classify the visit, keep the register, move the queue."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.queue_cmds import check_walk_in, refund, take_walk_in
from rules import customers as cr
from rules.errors import Refused
from rules.queue import AVAILABLE, BUSY, PRESENCE_WORDS
from rules.visits import CATEGORY_WORDS, Visit, classify
from storage import models as m

ROTATION = ("new",)
NEW_CUSTOMER = ("new", "named", "brought_open", "brought_closed")


def visit(cmd: c.Visit, ctx: Ctx) -> str:
    me = ctx.salesperson(ctx.sender)
    name, phone = cr.check_name(cmd.name), cr.check_phone(cmd.phone)
    row = ctx.customer_row(phone)
    cust = ctx.domain(row) if row else None
    if row is not None:
        busy_with = ctx.open_reception_of(row.id)
        if busy_with is not None:
            who = "你" if busy_with.member == me else busy_with.member
            raise Refused(f"{name}({cr.mask(phone)})正在由{who}接待中。")
    referrer = _referrer(ctx, cmd.referrer)
    owner = cust.owner_at(ctx.now) if cust else None
    ref_owner = referrer.owner_at(ctx.now) if referrer else None
    v = classify(reporter=me, owner=owner, owner_closed=bool(cust and cust.status == cr.CLOSED),
                 owner_presence=ctx.presence(owner), named=cmd.named, referrer_owner=ref_owner,
                 referrer_closed=bool(referrer and referrer.status == cr.CLOSED),
                 referrer_owner_presence=ctx.presence(ref_owner),
                 repeat_today=bool(row and ctx.received_today(row.id)), in_shift=ctx.in_shift(),
                 policy=ctx.policy)
    fill = next((r for r in ctx.open_receptions(me) if r.customer_id is None), None)
    if fill is None and v.receiver == me:
        _check_may_receive(ctx, me, v)
    row, lines = _register(ctx, cust, row, name, phone, v)
    lines += _receive(ctx, me, v, row, fill, owner)
    head = f"{me} 报到访:{name}({cr.mask(phone)}),{CATEGORY_WORDS[v.category]}"
    return head + "。" + ("\n" + "\n".join(lines) if lines else "")


def _referrer(ctx: Ctx, raw: str | None) -> cr.Customer | None:
    if not raw:
        return None
    phone = cr.check_phone(raw)
    row = ctx.customer_row(phone)
    if row is None:
        raise Refused(f"带访的老客户 {cr.mask(phone)} 不在登记表里,请核对手机号。")
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
        raise Refused(f"{me} 正在接待中,送客前不能再接新客户(经理可 /批准 {me})。")


def _register(ctx: Ctx, cust, row, name, phone, v: Visit) -> tuple[m.Customer, list[str]]:
    """有效登记: a new or public customer goes to the receiver; an owned one stays with its owner."""
    lines: list[str] = []
    days = ctx.policy.tracking_days
    if cust is None:
        rival = ctx.same_name_rival(name, v.receiver)
        cust = cr.new_customer(name, phone, v.receiver, ctx.now, days, pending=rival is not None)
        if rival:
            cust.registered_by = v.receiver
            lines.append(f"同名客户已归 {rival}(不同电话):本登记待经理核实(/核实 {cr.mask(phone)} 同一人|不同人)。")
        else:
            lines.append(f"登记有效,归属 {v.receiver},有效期至 {cust.valid_until:%m-%d}。")
    elif cust.effective_status(ctx.now) == cr.LAPSED:
        prev = cust.owner
        cust.register_to(v.receiver, name, ctx.now, days)
        lines.append(f"该客户原归 {prev or '无'},已过期为公客;现重新登记归 {v.receiver},有效期至 {cust.valid_until:%m-%d}。")
    elif cust.status == cr.PENDING:
        lines.append("该客户登记待经理核实,暂无归属。")
    else:
        if name != cust.name and name not in cust.other_names:
            cust.other_names.append(name)
            lines.append(f"姓名与登记不同(登记为 {cust.name}),同一电话仍归 {cust.owner};如非直系亲属请经理 /裁定。")
        if v.receiver == cust.owner and v.category != "obligation":
            cust.renew(ctx.now, days)
    return ctx.save(cust, row), lines


def _receive(ctx: Ctx, me: str, v: Visit, row: m.Customer, fill, owner) -> list[str]:
    lines: list[str] = []
    if v.receiver != me:                     # 交给归属人 (handover / brought by their customer)
        if fill is not None:
            fill.customer_id = row.id
            had = fill.counted_for is not None
            refund(ctx, fill, f"{row.name} 是 {v.receiver} 的客户")
            fill.category = "handover"
            ctx.end_reception(fill)
            if had:
                lines.append(f"{me} 名次退回,获得补接。")
        lines += _owner_takes_over(ctx, v, row)
        return lines
    if v.category == "obligation":
        lines.append(v.why + f";当天成交与 {owner} 分半,未成交送客后 {me} 获得补接。")
        if fill is not None:
            if fill.counted_for:
                ctx.note(*ctx.day.uncount(me))
                fill.counted_for = None
            fill.customer_id, fill.category, fill.for_owner = row.id, "obligation", owner
        else:
            ctx.start_reception(me, "obligation", row.id, for_owner=owner)
        ctx.mentions.append(owner)
        return lines
    if fill is not None:                      # filling in my open 接待
        fill.customer_id, fill.category = row.id, v.category
        if not v.counted and fill.counted_for:
            refund(ctx, fill, CATEGORY_WORDS[v.category])
            lines.append(f"{CATEGORY_WORDS[v.category]}不计名次,{me} 名次退回,获得补接。")
        return lines
    if v.category in ROTATION:
        take_walk_in(ctx, me, v.category, row.id)
    elif v.counted:
        ctx.note(*ctx.day.count_out_of_rotation(me))
        ctx.start_reception(me, v.category, row.id, counted_for=me)
    else:
        ctx.note(f"{me} 接待{CATEGORY_WORDS[v.category]},不计名次")
        ctx.start_reception(me, v.category, row.id)
    return lines


def _owner_takes_over(ctx: Ctx, v: Visit, row: m.Customer) -> list[str]:
    o = v.receiver
    counted = v.counted and ctx.day.entry(o) is not None
    if counted:
        ctx.note(*ctx.day.count_out_of_rotation(o))
    busy = ctx.presence(o) == BUSY
    ctx.start_reception(o, v.category, row.id, counted_for=o if counted else None)
    ctx.mentions.append(o)
    ctx.note(f"{row.name} 交由 {o} 接待" + ("(计名次)" if counted else "(不计名次)"))
    line = f"{row.name} 是 {o} 的客户,请 {o} 接待" + ("(计名次)。" if counted else "(不计名次)。")
    if busy:
        helper = default_helper(ctx, o)
        line += f"\n{o} 正在接待中:可同时接待,或让同事发 代接 {cr.mask(row.phone)}" + (
            f"(未指定则由 {helper} 代接)。" if helper else "。")
    return [line]


def default_helper(ctx: Ctx, owner: str) -> str | None:
    """无指定则由排位最后的销售员帮忙接待: the last available member of the queue."""
    avail = [e.name for e in ctx.day.queue if e.presence == AVAILABLE and e.name != owner]
    return avail[-1] if avail else None


def help_receive(cmd: c.HelpReceive, ctx: Ctx) -> str:
    me = ctx.salesperson(ctx.sender)
    phone = cr.check_phone(cmd.phone)
    row = ctx.customer_row(phone)
    if row is None:
        raise Refused(f"登记表里没有 {cr.mask(phone)},代接只用于同事的老客户;新客户请按轮排 接待。")
    owner = ctx.domain(row).owner_at(ctx.now)
    if owner is None or owner == me:
        raise Refused(f"{row.name} 目前" + ("没有归属人" if owner is None else "是你自己的客户") + ",不需要代接。")
    if ctx.presence(owner) == AVAILABLE:
        raise Refused(f"{owner} 在岗,请交由 {owner} 本人接待。")
    lines = []
    current = ctx.open_reception_of(row.id)
    if current is not None:
        if current.member == me:
            raise Refused(f"你已经在接待 {row.name}。")
        ctx.end_reception(current)
        if current.category == "obligation" and ctx.day.entry(current.member):
            ctx.note(*ctx.day.give_makeup(current.member, "义务接待交出"))
            lines.append(f"{current.member} 交出接待,获得补接。")
    ctx.start_reception(me, "helper", row.id, for_owner=owner)
    where = PRESENCE_WORDS.get(ctx.presence(owner) or "", "不在")
    ctx.note(f"{me} 代 {owner}({where})接待 {row.name},不计名次")
    ctx.mentions.append(owner)
    return (f"{me} 代 {owner} 接待 {row.name}({cr.mask(phone)}),不计名次;当天成交与 {owner} 分半。"
            + ("\n" + "\n".join(lines) if lines else ""))
