"""轮排 commands (RULES §2, §3): presence, walk-ins, 送客, 非客 and the manager's overrides."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.reply import Reply, Tell
from rules import customers as cr
from rules import fairness as fair
from rules import texts as T
from rules.enums import Benefit, BenefitKind, Category, NonBuyerTiming, Presence
from rules.errors import Refused
from rules.queue import ABSENT, AVAILABLE, AWAY_BUSINESS, AWAY_PERSONAL, BUSY, PRESENCE_WORDS, Entry
from storage import models as m

NON_BUYER_KINDS = ("同行", "市调", "建筑", "装修", "广告", "记者", "推销")
ERRAND_KINDS = ("问路", "找人")
REGISTERING = (Category.NEW, Category.NAMED, Category.BROUGHT_OPEN, Category.BROUGHT_CLOSED)   # a visit that registers


# ---- opening the day ---------------------------------------------------------
def open_today(ctx: Ctx, names: tuple[str, ...] = ()) -> None:
    """开班 (automatic, /开班, or /开班 甲 乙 丙); receptions left open since an earlier day are closed."""
    if not ctx.day_open():
        for r in ctx.uow.receptions.left_open_before(ctx.project.id, ctx.today):
            r.ended_at, r.nudge_at = ctx.now, None
            ctx.note(T.LEFTOVER_CLOSED_NOTE.format(member=r.member))
        ctx.day.forget_receptions()
    if names:
        ctx.note(*ctx.day.open_with(ctx.today, list(names)))
        ctx.take_facts()                            # counts already made today are kept (RULES §2)
    else:
        ctx.note(*ctx.day.open(ctx.today, ctx.roster(), ctx.policy.daily_order == "carry_over"))
    ctx.day.opened(ctx.sender)


def open_day(cmd: c.OpenDay, ctx: Ctx) -> Reply:
    for n in cmd.names:
        ctx.salesperson(n)
    if not cmd.names and ctx.day_open():
        raise Refused(T.ALREADY_OPEN)
    open_today(ctx, cmd.names)
    return Reply(T.OPENED.format(board=board_line(ctx)))


def next_line(day) -> str:
    """下一位:NAME, or 下一位:无 with why and who takes the next walk-in.

    With nobody free, a busy member /批准 let take one more new customer is the next-up."""
    nxt = day.next_up() or next((e.name for e in day.queue if e.presence == BUSY and e.approved > 0
                                 and day.next_up(approved=e.name) == e.name), None)
    if nxt:
        return T.NEXT.format(name=nxt)
    presences = {e.presence for e in day.queue}
    if not presences:
        why = T.NOBODY_EMPTY
    elif presences == {BUSY}:
        why = T.NOBODY_ALL_BUSY
    else:
        why = T.NOBODY_AWAY if BUSY in presences else T.NOBODY_NOT_HERE
    return T.NEXT_NONE.format(why=why)


def board_line(ctx: Ctx) -> str:
    parts = []
    for e in ctx.day.queue:
        tag = "" if e.presence == AVAILABLE else T.REASON.format(reason=PRESENCE_WORDS[e.presence])
        parts.append(e.name + tag + ("*" if e.makeup is not None else ""))
    return T.BOARD_LINE.format(order=" → ".join(parts) if parts else T.EMPTY)


# ---- presence ------------------------------------------------------------------
def _pre_open(ctx: Ctx) -> bool:
    """Before today's opening: sign-ins and leave are remembered for the opening."""
    if ctx.day_open():
        return False
    ctx.day.expect_opening(ctx.today)
    return True


def sign_in(cmd: c.SignIn, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    if _pre_open(ctx):
        if me in ctx.day.early:
            raise Refused(T.SIGNED_IN_EARLY_TWICE.format(me=me))
        ctx.note(*ctx.day.sign_in_early(me))
        return Reply(T.SIGNED_IN_EARLY.format(me=me, start=f"{ctx.settings.shift_start:%H:%M}"))
    e = ctx.day.entry(me)
    if e is not None and e.presence in (AVAILABLE, BUSY):
        raise Refused(T.ALREADY_HERE.format(me=me))
    ctx.note(*ctx.day.sign_in(me))
    back_from(ctx, me)
    if e is None:                                   # back after 请假/签退 today: counts are kept
        ctx.take_facts()
    return Reply((T.SIGNED_IN if e is not None else T.SIGNED_IN_TAIL).format(me=me))


def _leave(ctx: Ctx, word: str) -> Reply:
    me = ctx.salesperson(ctx.sender)
    if ctx.open_receptions(me):
        raise Refused(T.BUSY_FIRST_SEE_OFF.format(me=me, word=word))
    if _pre_open(ctx):
        ctx.note(*ctx.day.leave_early(me, word))
        return Reply(T.LEFT_EARLY.format(me=me, word=word))
    if ctx.day.entry(me) is None:
        raise Refused(T.NOT_IN_TODAY.format(me=me))
    ctx.note(*ctx.day.leave(me, word))
    back_from(ctx, me)
    return Reply(T.LEFT.format(me=me, word=word))


def sign_out(cmd: c.SignOut, ctx: Ctx) -> Reply:
    return _leave(ctx, T.SIGN_OUT_WORD)


def leave(cmd: c.Leave, ctx: Ctx) -> Reply:
    return _leave(ctx, T.LEAVE_WORD)


def _away(ctx: Ctx, presence: Presence, reason: str, word: str) -> Reply:
    me = ctx.sender
    ctx.require_in_queue(me)
    p = ctx.presence(me)
    if p == BUSY:
        raise Refused(T.BUSY_SEE_OFF_FIRST.format(me=me))
    if p == ABSENT:
        raise Refused(T.NOT_SIGNED_IN.format(me=me))
    why = T.REASON.format(reason=reason) if reason else ""
    ctx.note(*ctx.day.set_presence(me, presence, word + why))
    back_from(ctx, me)
    ctx.uow.aways.add(m.Away(project_id=ctx.project.id, day=ctx.today, member=me, kind=presence,
                             reason=reason[:200], started_at=ctx.now))
    return Reply(T.AWAY.format(me=me, word=word, reason=why))


def back_from(ctx: Ctx, me: str) -> None:
    """The 外出/暂离 of `me` still open ends now (回来, 签到, 签退, another 外出/暂离)."""
    away = ctx.uow.aways.open_of(ctx.project.id, me)
    if away is not None:
        away.ended_at = ctx.now


def step_out(cmd: c.StepOut, ctx: Ctx) -> Reply:
    return _away(ctx, AWAY_PERSONAL, cmd.reason, T.AWAY_PERSONAL_WORD)


def go_out(cmd: c.GoOut, ctx: Ctx) -> Reply:
    """外出 原因: the place is kept, so the reason is required and the managers see it (RULES §9a)."""
    if not cmd.reason:
        raise Refused(T.GO_OUT_NEEDS_REASON)
    reply = _away(ctx, AWAY_BUSINESS, cmd.reason, T.AWAY_BUSINESS_WORD)
    ctx.grant(ctx.sender, BenefitKind.KEPT_PLACE, cmd.reason)
    return reply


def back(cmd: c.Back, ctx: Ctx) -> Reply:
    me = ctx.sender
    ctx.require_in_queue(me)
    p = ctx.presence(me)
    if p in (AVAILABLE, BUSY):
        raise Refused((T.ALREADY_HERE if p == AVAILABLE else T.BUSY_BACK).format(me=me))
    ctx.note(*ctx.day.set_presence(me, AVAILABLE, T.BACK_NOTE))
    back_from(ctx, me)
    return Reply(T.BACK.format(me=me))


# ---- walk-ins ----------------------------------------------------------------------
def check_walk_in(ctx: Ctx, name: str) -> None:
    """Only the next-up takes a walk-in; a busy member needs /批准 (RULES §3.6, §3.7)."""
    e = ctx.require_in_queue(name)
    if e.presence == BUSY and e.approved <= 0:
        nxt = ctx.day.next_up()
        raise Refused(T.BUSY_NO_NEW.format(name=name) + "\n"
                      + (T.NOW_PLEASE.format(name=nxt) if nxt else T.NOW_NOBODY))
    if e.presence not in (AVAILABLE, BUSY):
        raise Refused(T.CANNOT_RECEIVE.format(name=name, presence=PRESENCE_WORDS[e.presence]))
    nxt = ctx.day.next_up(approved=name)
    if nxt != name:
        raise Refused(T.NOT_YOUR_TURN.format(next=nxt, name=name) if nxt else T.NOBODY_TURN.format(name=name))


def take_walk_in(ctx: Ctx, name: str, category: str, customer_id: int | None = None) -> m.Reception:
    """A rotation reception: counted in shift, uncounted (queue untouched) outside it."""
    if not ctx.in_shift():
        ctx.note(T.OFF_SHIFT_NOTE.format(name=name))
        return ctx.start_reception(name, Category.OFF_SHIFT, customer_id)
    check_walk_in(ctx, name)
    if ctx.presence(name) == BUSY:
        ctx.note(*ctx.day.use_approval(name))
    ctx.note(*ctx.day.take_walk_in(name))
    return ctx.start_reception(name, category, customer_id, counted_for=name, turn=True)


def receive(cmd: c.Receive, ctx: Ctx) -> Reply:
    me = ctx.salesperson(ctx.sender)
    take_walk_in(ctx, me, Category.NEW)
    return Reply(T.RECEIVED.format(me=me))


def refund(ctx: Ctx, r: m.Reception, why: str) -> bool:
    """A counted reception becomes uncounted: count −1, and a make-up (优先补接) for a counted
    rotation turn only (RULES §4). True when the make-up was given."""
    who = r.counted_for
    back, makeup = fair.refund_terms(who is not None, r.turn)
    if back and who is not None and ctx.day.entry(who) and r.day == ctx.today:
        if makeup:
            ctx.note(*ctx.day.refund(who, why, src=r.id))
            r.benefit = Benefit.REFUND
        else:
            ctx.note(*ctx.day.uncount(who), T.NO_MAKEUP_OUT_OF_TURN.format(name=who))
        ctx.grant(who, BenefitKind.REFUND, why, r, makeup=makeup)
    r.counted_for = None
    return makeup and r.benefit == Benefit.REFUND


def makeup_for(ctx: Ctx, r: m.Reception, why: str) -> bool:
    """义务接待 ended or handed over: a make-up only for a counted rotation turn (logged either way)."""
    if not ctx.day.entry(r.member) or r.day != ctx.today:
        return False
    if not fair.earns_makeup(r.turn, ctx.deal_today(r.customer_id)):
        if not r.turn:
            ctx.note(T.NO_MAKEUP_OUT_OF_TURN.format(name=r.member))
        return False
    ctx.note(*ctx.day.give_makeup(r.member, why, src=r.id))
    r.benefit = Benefit.MAKEUP
    ctx.grant(r.member, BenefitKind.MAKEUP, why, r, makeup=True)
    return True


def see_off(cmd: c.SeeOff, ctx: Ctx) -> Reply:
    """送客 [姓名|手机] (RULES §3.11): ends the sender's only open reception, or the one named; with
    several open, a bare 送客 lists them and changes nothing. Available again only when none is open."""
    me = ctx.sender
    open_ = ctx.open_receptions(me)
    chosen = [r for r in open_ if _matches(ctx, r, cmd.key)] if cmd.key else open_
    if not chosen:
        raise Refused(T.NO_OPEN_RECEPTION.format(me=me, key=f"「{cmd.key}」" if cmd.key else "")
                      + (_which(ctx, me, open_) if open_ else ""))
    if len(chosen) > 1:
        raise Refused(_which(ctx, me, chosen))
    r = chosen[0]
    ctx.end_reception(r)
    lines = _after_reception(ctx, r)
    ctx.note(T.SEEN_OFF_NOTE.format(me=me) + (T.REASON.format(reason=_label(ctx, r, False)) if len(open_) > 1 else ""))
    left = len(open_) - 1
    if left:
        head = T.SEEN_OFF_ONE.format(me=me, who=_label(ctx, r, True), n=left)
    else:
        head = (T.SEEN_OFF if ctx.day_open() and ctx.presence(me) == AVAILABLE else T.SEEN_OFF_OFF_QUEUE).format(me=me)
    return Reply(head + ("\n" + "\n".join(lines) if lines else ""))


def _label(ctx: Ctx, r: m.Reception, with_time: bool) -> str:
    """张三（138****0001）, or 未登记的来客, with the start time when asked (a phone is always masked)."""
    row = ctx.uow.customers.get(r.customer_id) if r.customer_id else None
    who = T.CUSTOMER_WHO.format(name=row.name, phone=cr.mask(row.phone)) if row else T.UNREGISTERED_VISITOR
    return who + (T.SINCE.format(at=f"{ctx.local(r.started_at):%H:%M}") if with_time else "")


def _which(ctx: Ctx, me: str, open_: list[m.Reception]) -> str:
    """The open receptions, each with a key 送客 accepts (nothing changes)."""
    items = "\n".join(T.SEE_OFF_ITEM.format(who=_label(ctx, r, True), key=_key(ctx, r, open_)) for r in open_)
    return T.SEE_OFF_WHICH.format(me=me, n=len(open_), items=items)


def _key(ctx: Ctx, r: m.Reception, open_: list[m.Reception]) -> str:
    """The shortest word that names `r` alone among `open_`: the name, the masked phone, or the start time."""
    row = ctx.uow.customers.get(r.customer_id) if r.customer_id else None
    for key in ((row.name, cr.mask(row.phone)) if row else (T.UNREGISTERED_KEY,)):
        if [x for x in open_ if _matches(ctx, x, key)] == [r]:
            return key
    return f"{ctx.local(r.started_at):%H:%M}"


def _matches(ctx: Ctx, r: m.Reception, key: str) -> bool:
    """送客 张三 | 13812345678 | 138****5678 (as the bot printed it) | 5678 | 未登记 | 09:05 (its start)."""
    if key == f"{ctx.local(r.started_at):%H:%M}":
        return True
    if r.customer_id is None:
        return key == T.UNREGISTERED_KEY
    row = ctx.uow.customers.get(r.customer_id)
    assert row is not None, r.customer_id       # receptions.customer_id is a foreign key
    phones = ctx.phones_of(row)
    parts = cr.masked_parts(key)                # 送客 139****0003 / 送客 0003
    if parts:
        return any(p.startswith(parts[0]) and p.endswith(parts[1]) for p in phones)
    return key.replace(" ", "") == row.name.replace(" ", "") or cr.normalize_phone(key) in phones


def _after_reception(ctx: Ctx, r: m.Reception) -> list[str]:
    """义务接待/代接 ended without a deal today: make-up; auto_dealer counts the owner (RULES §4)."""
    if r.category not in (Category.OBLIGATION, Category.HELPER) or ctx.deal_today(r.customer_id):
        return []
    lines = []
    # the owner counts once for one customer a day (a handover may have counted them already)
    if (r.category == Category.HELPER and ctx.policy.helper_no_deal_owner_counted and r.for_owner
            and not (r.customer_id and ctx.counted_for_customer_today(r.for_owner, r.customer_id))):
        if ctx.day.entry(r.for_owner):
            ctx.note(*ctx.day.count_out_of_rotation(r.for_owner))
        r.counted_for = r.for_owner
        lines.append(T.HELPER_NO_DEAL_COUNTED.format(owner=r.for_owner))
    if r.category == Category.OBLIGATION:
        if makeup_for(ctx, r, T.MAKEUP_WHY_OBLIGATION):
            lines.append(T.GOT_MAKEUP.format(name=r.member))
    elif ctx.policy.helper_no_deal_owner_counted and ctx.day.entry(r.member):
        # auto_dealer: the helper's make-up is the policy table's own (RULES §4 `helper`)
        ctx.note(*ctx.day.give_makeup(r.member, T.MAKEUP_WHY_OBLIGATION, src=r.id))
        r.benefit = Benefit.MAKEUP
        ctx.grant(r.member, BenefitKind.MAKEUP, T.MAKEUP_WHY_OBLIGATION, r, makeup=True)
        lines.append(T.GOT_MAKEUP.format(name=r.member))
    return lines


# ---- 非客 -----------------------------------------------------------------------------
def non_buyer(cmd: c.NonBuyer, ctx: Ctx) -> Reply:
    """非客 (seed 十三): at once while the visitor is still here or within the window; after 送客, /批准."""
    if cmd.kind not in NON_BUYER_KINDS + ERRAND_KINDS:
        raise Refused(T.NON_BUYER_KINDS_HINT.format(kinds="/".join(NON_BUYER_KINDS + ERRAND_KINDS)))
    me = ctx.sender
    open_ = ctx.open_receptions(me)
    r = open_[-1] if open_ else _last_ended(ctx, me)
    if r is None:
        raise Refused(T.NO_RECEPTION_FOR_NON_BUYER.format(me=me))
    if r.category in (Category.NON_BUYER, Category.ERRAND):
        raise Refused(T.NON_BUYER_ALREADY.format(me=me))
    if r.customer_id is not None and r.category in REGISTERING:   # registered is not a non-buyer (RULES §4)
        raise Refused(T.NON_BUYER_REGISTERED.format(me=me, name=_customer_name(ctx, r)))
    timing = fair.non_buyer_timing(ctx.local(r.started_at), ctx.now, ctx.policy.non_buyer_window_minutes,
                                   still_open=r.ended_at is None)
    if timing == NonBuyerTiming.APPROVE:
        ctx.day.hold_non_buyer(me, r.id, cmd.kind)
        ctx.note(T.NON_BUYER_LATE_NOTE.format(me=me, kind=cmd.kind))
        ask = T.NON_BUYER_ASK.format(me=me, kind=cmd.kind, start=f"{ctx.local(r.started_at):%H:%M}",
                                     end=f"{ctx.local(r.ended_at):%H:%M}" if r.ended_at else "")
        return Reply(T.NON_BUYER_LATE.format(minutes=ctx.policy.non_buyer_window_minutes, me=me, kind=cmd.kind),
                     tells=tuple(Tell(mgr, ask) for mgr in ctx.managers()))
    return Reply(apply_non_buyer(ctx, me, r, cmd.kind))


def _customer_name(ctx: Ctx, r: m.Reception) -> str:
    row = ctx.uow.customers.get(r.customer_id) if r.customer_id else None
    return row.name if row is not None else ""


def _last_ended(ctx: Ctx, me: str) -> m.Reception | None:
    """My latest reception today that already ended (送客)."""
    return ctx.uow.receptions.last_ended(ctx.project.id, me, ctx.today)


def apply_non_buyer(ctx: Ctx, me: str, r: m.Reception, kind: str) -> str:
    errand = kind in ERRAND_KINDS
    r.category, r.kind = (Category.ERRAND if errand else Category.NON_BUYER), kind
    was_counted = r.counted_for is not None
    made_up = refund(ctx, r, T.REFUND_WHY_NON_BUYER.format(kind=kind))
    ctx.note(T.NON_BUYER_NOTE.format(me=me, kind=kind))
    if errand:
        if r.ended_at is None:
            ctx.end_reception(r)
        text = T.ERRAND_REFUNDED if made_up else T.ERRAND_UNCOUNTED
    else:
        text = T.NON_BUYER_REFUNDED if made_up else T.NON_BUYER_UNCOUNTED
    return text.format(kind=kind, me=me) + (T.COUNT_BACK_NO_MAKEUP.format(me=me) if was_counted and not made_up else "")


# ---- manager overrides ------------------------------------------------------------------
def _in_queue(ctx: Ctx, name: str) -> Entry:
    ctx.salesperson(name)
    return ctx.require_in_queue(name)


def set_order(cmd: c.SetOrder, ctx: Ctx) -> Reply:
    ctx.require_open()
    if sorted(cmd.names) != sorted(ctx.day.names()):
        raise Refused(T.ORDER_MUST_LIST_ALL.format(names=" ".join(ctx.day.names())))
    ctx.note(*ctx.day.set_order(list(cmd.names)))
    return Reply(T.ORDER_SET)


def give_makeup(cmd: c.GiveMakeup, ctx: Ctx) -> Reply:
    if _in_queue(ctx, cmd.name).makeup is not None:
        raise Refused(T.ALREADY_HOLDS_MAKEUP.format(name=cmd.name))
    ctx.note(*ctx.day.give_makeup(cmd.name, T.MAKEUP_BY_MANAGER, src=0))
    ctx.grant(cmd.name, BenefitKind.MAKEUP, T.MAKEUP_BY_MANAGER, makeup=True)
    return Reply(T.MAKEUP_GIVEN.format(name=cmd.name))


def skip(cmd: c.Skip, ctx: Ctx) -> Reply:
    ctx.salesperson(cmd.name)
    ctx.require_open()
    why = fair.skip_refusal(cmd.name, ctx.presence(cmd.name), cmd.name in ctx.day.off)
    if why:
        raise Refused(why)
    ctx.require_in_queue(cmd.name)
    ctx.note(*ctx.day.skip(cmd.name, cmd.reason))
    return Reply(T.SKIPPED.format(name=cmd.name), tells=(Tell(cmd.name, T.SKIPPED_TELL.format(name=cmd.name)),))


def assign(cmd: c.Assign, ctx: Ctx) -> Reply:
    if cmd.name == LAST:
        return hand_non_buyer_to_last(ctx)
    e = _in_queue(ctx, cmd.name)
    if e.presence != AVAILABLE:
        raise Refused(T.CANNOT_ASSIGN.format(name=cmd.name, presence=PRESENCE_WORDS[e.presence]))
    ctx.note(*ctx.day.assign(cmd.name))
    return Reply(T.ASSIGNED.format(name=cmd.name))


LAST = "末位"


def hand_non_buyer_to_last(ctx: Ctx) -> Reply:
    """/指派 末位 (count_all, seed 十三): the last member of the queue receives the declared non-buyer,
    uncounted, keeping their place; the receiver keeps the refund and is free again."""
    ctx.require_open()
    if not ctx.policy.non_buyer_to_last:
        raise Refused(T.LAST_NOT_IN_POLICY)
    r = ctx.uow.receptions.latest_open_non_buyer(ctx.project.id, ctx.today)
    if r is None:
        raise Refused(T.LAST_NO_NON_BUYER)
    last = next((e.name for e in reversed(ctx.day.queue) if e.presence == AVAILABLE and e.name != r.member), None)
    if last is None:
        raise Refused(T.LAST_NOBODY)
    ctx.end_reception(r)
    new = ctx.start_reception(last, Category.NON_BUYER, r.customer_id)
    new.kind = r.kind
    ctx.note(T.LAST_NOTE.format(last=last, member=r.member, kind=r.kind))
    return Reply(T.LAST_TAKES.format(last=last, member=r.member, kind=r.kind), mentions=(last,))


def approve(cmd: c.Approve, ctx: Ctx) -> Reply:
    _in_queue(ctx, cmd.name)
    pending = ctx.day.take_non_buyer(cmd.name)
    if pending:
        r = ctx.uow.receptions.get(pending["reception"])
        assert r is not None, pending               # the held 非客's reception (/撤销 takes the hold back first)
        ctx.note(T.NON_BUYER_CONFIRMED_NOTE.format(name=cmd.name, kind=pending["kind"]))
        return Reply(T.NON_BUYER_CONFIRMED + apply_non_buyer(ctx, cmd.name, r, pending["kind"]))
    if ctx.presence(cmd.name) != BUSY:
        raise Refused(T.NOTHING_TO_APPROVE.format(name=cmd.name))
    ctx.note(*ctx.day.approve(cmd.name))
    return Reply(T.APPROVED.format(name=cmd.name))
