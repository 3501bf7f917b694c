"""/驳回 甲 [原因] (RULES §9a): the manager withdraws 甲's latest benefit of today, undoably."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.reply import Reply, Tell
from rules import texts as T
from rules.enums import Benefit, BenefitKind
from rules.errors import Refused
from storage import models as m


def withdraw(cmd: c.Withdraw, ctx: Ctx) -> Reply:
    member = ctx.salesperson(cmd.name)
    for b in ctx.uow.benefits.standing(ctx.project.id, ctx.today, member):      # latest first
        if _undo(ctx, b):
            return _withdrawn(ctx, b, cmd.reason)
    raise Refused(T.BENEFIT_NONE_TODAY.format(member=member))


def notices(ctx: Ctx) -> tuple[Tell, ...]:
    """benefit_notice: each — every manager (but the one who gave it) hears of this command's benefits."""
    granted = [b for b in ctx.granted if b.withdrawn_by is None]
    if not granted or ctx.policy.benefit_notice != "each":
        return ()
    text = "\n".join(T.BENEFIT_NOTICE.format(time=f"{ctx.local(b.at):%H:%M}", member=b.member,
                                             what=T.BENEFIT_WORDS[b.kind], reason=b.reason) for b in granted)
    return tuple(Tell(mgr, text) for mgr in ctx.managers() if mgr != ctx.sender)


def _undo(ctx: Ctx, b: m.BenefitRow) -> bool:
    """Put back what the benefit gave; False for a make-up already used (nothing left to take)."""
    e = ctx.day.entry(b.member) if ctx.day_open() else None
    r = ctx.uow.receptions.get(b.reception_id) if b.reception_id else None
    why = T.BENEFIT_WORDS[b.kind] + T.REASON.format(reason=b.reason)
    if b.kind == BenefitKind.MAKEUP:
        if e is None or e.makeup is None or e.makeup_src != b.reception_id:
            return False
        ctx.note(*ctx.day.withdraw_makeup(b.member, why))
    elif b.kind == BenefitKind.REFUND:
        if e is not None and e.makeup is not None and e.makeup_src == b.reception_id:
            ctx.note(*ctx.day.withdraw_makeup(b.member, why, recount=True))
        elif e is not None:
            ctx.note(*ctx.day.recount(b.member, why))
        if r is not None:
            r.counted_for, r.benefit = b.member, Benefit.NONE
    elif b.kind == BenefitKind.KEPT_PLACE:
        if e is not None:
            ctx.note(*ctx.day.to_tail(b.member, why))
    elif b.kind == BenefitKind.UNCOUNTED:
        if e is not None:
            ctx.note(*ctx.day.count_out_of_rotation(b.member))
        if r is not None:
            r.counted_for = b.member
    return True


def _withdrawn(ctx: Ctx, b: m.BenefitRow, reason: str) -> Reply:
    b.withdrawn_by, b.withdrawn_at, b.withdrawn_why = ctx.sender, ctx.now, reason[:200]
    words = dict(member=b.member, time=f"{ctx.local(b.at):%H:%M}", what=T.BENEFIT_WORDS[b.kind], reason=b.reason,
                 why=T.REASON.format(reason=reason) if reason else "", manager=ctx.sender)
    ctx.note(T.BENEFIT_WITHDRAWN_NOTE.format(**words))
    return Reply(T.BENEFIT_WITHDRAWN.format(**words), tells=(Tell(b.member, T.BENEFIT_WITHDRAWN_TELL.format(**words)),))
