"""名单与经理 (RULES §9, §5.1): /成员, /转移 and 更正. Config managers stay managers; the last manager stays."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.reply import Reply, Tell
from rules import customers as cr
from rules import fairness as fair
from rules import texts as T
from rules.enums import MANAGES, SELLS, Role
from rules.errors import Refused
from rules.normalize import member_name_problem
from storage import models as m


def roster(cmd: c.Roster, ctx: Ctx) -> Reply:
    ctx._members = None
    try:
        return Reply(_ACTIONS[cmd.action](cmd.name, ctx))
    finally:
        ctx._members = None


def _row(ctx: Ctx, name: str) -> m.Member | None:
    return ctx.uow.members.named(ctx.project.id, name)


def _active_row(ctx: Ctx, name: str) -> m.Member:
    row = _row(ctx, name)
    if row is None or not row.active:
        raise Refused(T.ROSTER_NO_SUCH.format(name=name))
    return row


def _add(name: str, ctx: Ctx) -> str:
    problem = member_name_problem(name)
    if problem:
        raise Refused(T.ROSTER_BAD_NAME.format(name=name[:20], problem=problem))
    row = _row(ctx, name)
    if row is not None and row.active and row.role in SELLS:
        raise Refused(T.ROSTER_ALREADY.format(name=name))
    pos = max((x.position for x in ctx.members()), default=0) + 1
    if row is None:
        ctx.uow.members.add(m.Member(project_id=ctx.project.id, name=name, role=Role.SALES, position=pos))
    else:
        was_manager = row.active and row.role in MANAGES
        row.active, row.position = True, pos
        row.role = Role.BOTH if was_manager or name in ctx.settings.managers else Role.SALES
    ctx.note(T.ROSTER_ADDED_NOTE.format(name=name))
    return T.ROSTER_ADDED.format(name=name)


def _remove(name: str, ctx: Ctx) -> str:
    row = _active_row(ctx, name)
    config = ctx.settings.managers
    if ctx.open_receptions(name):
        raise Refused(T.ROSTER_BUSY.format(name=name))
    if name in config and row.role == Role.BOTH:
        row.role = Role.MANAGER              # off the roster, still a manager (config.yaml says so)
    else:
        why = fair.manager_change_refusal(name, ctx.managers(), config, demote=False) if name in ctx.managers() else None
        if why:
            raise Refused(why)
        row.active = False
    ctx.day.drop(name)
    ctx.note(T.ROSTER_REMOVED_NOTE.format(name=name))
    owned = len(active_customers(ctx, name))
    return T.ROSTER_REMOVED.format(name=name) + (T.ROSTER_STILL_OWNS.format(name=name, n=owned) if owned else "")


def _promote(name: str, ctx: Ctx) -> str:
    row = _active_row(ctx, name)
    row.role = Role.BOTH if row.role in SELLS else Role.MANAGER
    ctx.note(T.ROSTER_MANAGER_NOTE.format(name=name))
    return T.ROSTER_MANAGER.format(name=name)


def _demote(name: str, ctx: Ctx) -> str:
    row = _active_row(ctx, name)
    if name not in ctx.managers():
        raise Refused(T.NOT_A_MANAGER.format(name=name))
    why = fair.manager_change_refusal(name, ctx.managers(), ctx.settings.managers, demote=True)
    if why:
        raise Refused(why)
    if row.role == Role.BOTH:
        row.role = Role.SALES
    else:
        row.active = False                   # a manager only: no role left
    ctx.note(T.DEMOTED_NOTE.format(name=name))
    return T.DEMOTED.format(name=name)


_ACTIONS = {"添加": _add, "移除": _remove, "经理": _promote, "取消经理": _demote}


def active_customers(ctx: Ctx, owner: str) -> list[m.Customer]:
    rows = ctx.uow.customers.active_of(ctx.project.id, owner)
    return [r for r in rows if ctx.domain(r).owner_at(ctx.now) == owner]


def transfer(cmd: c.Transfer, ctx: Ctx) -> Reply:
    """/转移 甲 乙: all of 甲's active customers now belong to 乙 (a member leaving); each owner told privately."""
    if cmd.source == cmd.target:
        raise Refused(T.TRANSFER_SAME)
    ctx.salesperson(cmd.target)
    rows = active_customers(ctx, cmd.source)
    if not rows:
        raise Refused(T.TRANSFER_NONE.format(name=cmd.source))
    for row in rows:
        cust = ctx.domain(row)
        cust.owner = cmd.target
        cust.renew(ctx.now, ctx.policy.tracking_days)
        ctx.save(cust, row)
        ctx.note(T.TRANSFER_NOTE.format(name=row.name, phone=cr.mask(row.phone), source=cmd.source,
                                        target=cmd.target))
    told = (Tell(cmd.source, T.TRANSFER_TO_SOURCE.format(n=len(rows), target=cmd.target, names="、".join(
        T.CUSTOMER_WHO.format(name=r.name, phone=cr.mask(r.phone)) for r in rows))),
            Tell(cmd.target, T.TRANSFER_TO_TARGET.format(n=len(rows), source=cmd.source, names="、".join(
                T.CUSTOMER_WHO.format(name=r.name, phone=r.phone) for r in rows))))
    return Reply(T.TRANSFERRED.format(n=len(rows), source=cmd.source, target=cmd.target), tells=told)


def correct_name(cmd: c.CorrectName, ctx: Ctx) -> Reply:
    """更正 手机 新姓名: the owner or a manager corrects a customer's name; ownership is unchanged."""
    # the phone as the bot printed it, or as typed in full
    row = ctx.find_customer(cmd.phone if cr.masked_phone(cmd.phone) else cr.check_phone(cmd.phone))
    owner = ctx.domain(row).owner_at(ctx.now)
    if ctx.sender != owner and not ctx.is_manager():
        raise Refused(T.CORRECT_NOT_OWNER.format(name=row.name, owner=owner or T.NONE))
    name = cr.check_name(cmd.name)
    if name == row.name:
        raise Refused(T.CORRECT_SAME.format(name=name))
    old, row.name = row.name, name
    ctx.note(T.CORRECTED_NOTE.format(me=ctx.sender, old=old, name=name, phone=cr.mask(row.phone)))
    return Reply(T.CORRECTED.format(old=old, name=name, phone=cr.mask(row.phone), owner=owner or T.NONE))


def correct_phone(cmd: c.CorrectPhone, ctx: Ctx) -> Reply:
    """更正 旧手机 新手机 (RULES §5.8): the owner on the registration day, or a manager at any time;
    ownership, validity and reminders unchanged; refused, naming the owner, when the new phone is
    another customer's."""
    row = ctx.find_customer(cmd.old if cr.masked_phone(cmd.old) else cr.check_phone(cmd.old))
    new = cr.check_phone(cmd.new)
    cust = ctx.domain(row)
    owner = cust.owner_at(ctx.now)
    old = _typed_phone(ctx, row, cmd.old)
    if not ctx.is_manager():
        _may_correct_phone(ctx, row, cust, owner, old)
    if new in ctx.phones_of(row):
        raise Refused(T.CORRECT_PHONE_SAME.format(name=row.name, phone=cr.mask(new)))
    other = ctx.customer_row(new)
    if other is not None:
        raise Refused(T.CORRECT_PHONE_TAKEN.format(phone=cr.mask(new), name=other.name,
                                                   owner=ctx.domain(other).owner_at(ctx.now) or T.NONE))
    ctx.change_phone(row, old, new)
    ctx.note(T.PHONE_CORRECTED_NOTE.format(me=ctx.sender, name=row.name, old=cr.mask(old), new=cr.mask(new)))
    return Reply(T.PHONE_CORRECTED.format(name=row.name, old=cr.mask(old), new=cr.mask(new), owner=owner or T.NONE))


def _may_correct_phone(ctx: Ctx, row: m.Customer, cust: cr.Customer, owner: str | None, old: str) -> None:
    """A salesperson corrects only their own customer's phone, on the day they registered it."""
    mine = owner == ctx.sender or (cust.status == cr.PENDING and cust.registered_by == ctx.sender)
    if not mine:
        raise Refused(T.CORRECT_PHONE_NOT_OWNER.format(name=row.name, phone=cr.mask(old), owner=owner or T.NONE))
    registered = ctx.local(row.registered_at)
    if registered.date() != ctx.today:
        raise Refused(T.CORRECT_PHONE_LATE.format(name=row.name, day=f"{registered:%m-%d}", phone=cr.mask(old)))


def _typed_phone(ctx: Ctx, row: m.Customer, key: str) -> str:
    """Which of the customer's phones `key` names (typed in full, or masked as the bot prints it)."""
    full, parts = cr.normalize_phone(key), cr.masked_phone(key)
    return next((p for p in ctx.phones_of(row)
                 if p == full or (parts and p.startswith(parts[0]) and p.endswith(parts[1]))), row.phone)
