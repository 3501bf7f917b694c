"""轮排 commands (RULES §2, §3): presence, walk-ins, 送客, 非客 and the manager's overrides."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers import commands as c
from handlers.context import Ctx
from rules.errors import Refused
from rules.queue import ABSENT, AVAILABLE, AWAY_BUSINESS, AWAY_PERSONAL, BUSY, PRESENCE_WORDS
from storage import models as m

NON_BUYER_KINDS = ("同行", "市调", "建筑", "装修", "广告", "记者", "推销")
ERRAND_KINDS = ("问路", "找人")


# ---- opening the day ---------------------------------------------------------
def open_today(ctx: Ctx, names: tuple[str, ...] = ()) -> None:
    """开班 (automatic, /开班, or /开班 甲 乙 丙); receptions left open since an earlier day are closed."""
    if not ctx.day_open():
        for r in ctx.s.scalars(select(m.Reception).where(
                m.Reception.project_id == ctx.project.id, m.Reception.ended_at.is_(None),
                m.Reception.day < ctx.today)):
            r.ended_at, r.nudge_at = ctx.now, None
            ctx.note(f"{r.member} 前一天未送客的接待已自动结束")
        for e in ctx.day.queue:
            e.receptions, e.approved = [], 0
    if names:
        before = set(ctx.day.names()) if ctx.day_open() else set()
        ctx.note(*ctx.day.open_with(ctx.today, list(names)))
        for e in ctx.day.queue:
            if e.name not in before:                # counts already made today are kept (RULES §2)
                e.counted = ctx.counted_today(e.name)
    else:
        ctx.note(*ctx.day.open(ctx.today, ctx.roster(), ctx.policy.daily_order == "carry_over"))
    ctx.day.opened_by = ctx.sender


def open_day(cmd: c.OpenDay, ctx: Ctx) -> str:
    for n in cmd.names:
        ctx.salesperson(n)
    if not cmd.names and ctx.day_open():
        raise Refused("今天已经开过班了。要重排今天的队伍,请用 /开班 甲 乙 丙 或 /顺序。")
    open_today(ctx, cmd.names)
    return "开班了。" + board_line(ctx)


def board_line(ctx: Ctx) -> str:
    parts = []
    for e in ctx.day.queue:
        tag = "" if e.presence == AVAILABLE else f"({PRESENCE_WORDS[e.presence]})"
        parts.append(e.name + tag + ("*" if e.makeup is not None else ""))
    return "轮排:" + (" → ".join(parts) if parts else "(空)")


# ---- presence ------------------------------------------------------------------
def _pre_open(ctx: Ctx) -> bool:
    """Before today's opening: sign-ins and leave are remembered for the opening."""
    if ctx.day_open():
        return False
    if ctx.day.early_date != ctx.today:
        ctx.day.early_date, ctx.day.early, ctx.day.early_off = ctx.today, [], []
    return True


def sign_in(cmd: c.SignIn, ctx: Ctx) -> str:
    me = ctx.salesperson(ctx.sender)
    if _pre_open(ctx):
        if me in ctx.day.early:
            raise Refused(f"{me} 今天已经签到过了。")
        ctx.day.early.append(me)
        ctx.day.early_off = [n for n in ctx.day.early_off if n != me]
        ctx.note(f"{me} 开班前签到")
        return f"{me} 已签到,{ctx.settings.shift_start:%H:%M} 开班时在岗。"
    e = ctx.day.entry(me)
    if e is not None and e.presence in (AVAILABLE, BUSY):
        raise Refused(f"{me} 已经在岗了。")
    ctx.note(*ctx.day.sign_in(me))
    if e is None:                                   # back after 请假/签退 today: counts are kept
        ctx.day.entry(me).counted = ctx.counted_today(me)
    return f"{me} 签到成功" + ("。" if e is not None else ",排在队尾。")


def _leave(ctx: Ctx, word: str) -> str:
    me = ctx.salesperson(ctx.sender)
    if ctx.open_receptions(me):
        raise Refused(f"{me} 还有接待中的客户,请先 送客 再{word}。")
    if _pre_open(ctx):
        ctx.day.early = [n for n in ctx.day.early if n != me]
        if me not in ctx.day.early_off:
            ctx.day.early_off.append(me)
        ctx.note(f"{me} 开班前{word}")
        return f"{me} 已{word},今天不排队。"
    if ctx.day.entry(me) is None:
        raise Refused(f"{me} 今天不在轮排里。")
    ctx.note(*ctx.day.leave(me, word))
    return f"{me} 已{word},今天不再排队。"


def sign_out(cmd: c.SignOut, ctx: Ctx) -> str:
    return _leave(ctx, "签退")


def leave(cmd: c.Leave, ctx: Ctx) -> str:
    return _leave(ctx, "请假")


def _away(ctx: Ctx, presence: str, reason: str, word: str) -> str:
    me = ctx.sender
    ctx.require_in_queue(me)
    p = ctx.presence(me)
    if p == BUSY:
        raise Refused(f"{me} 正在接待中,请先 送客。")
    if p == ABSENT:
        raise Refused(f"{me} 还没签到,请先 签到。")
    ctx.note(*ctx.day.set_presence(me, presence, word + (f"({reason})" if reason else "")))
    return f"{me} {word}" + (f"({reason})" if reason else "") + "。"


def step_out(cmd: c.StepOut, ctx: Ctx) -> str:
    return _away(ctx, AWAY_PERSONAL, cmd.reason, "暂离,轮到时跳过")


def go_out(cmd: c.GoOut, ctx: Ctx) -> str:
    return _away(ctx, AWAY_BUSINESS, cmd.reason, "因公外出,保留位置")


def back(cmd: c.Back, ctx: Ctx) -> str:
    me = ctx.sender
    ctx.require_in_queue(me)
    p = ctx.presence(me)
    if p in (AVAILABLE, BUSY):
        raise Refused(f"{me} 已经在岗了。" if p == AVAILABLE else f"{me} 正在接待中,送客后自动在岗。")
    ctx.note(*ctx.day.set_presence(me, AVAILABLE, "回来,在岗"))
    return f"{me} 回来了。"


# ---- walk-ins ----------------------------------------------------------------------
def check_walk_in(ctx: Ctx, name: str) -> None:
    """Only the next-up takes a walk-in; a busy member needs /批准 (RULES §3.6, §3.7)."""
    ctx.require_in_queue(name)
    e = ctx.day.entry(name)
    if e.presence == BUSY and e.approved <= 0:
        raise Refused(f"{name} 正在接待中,送客前不能再接新客户(经理可 /批准 {name})。"
                      f"\n现在请 {ctx.day.next_up() or '(无人在岗)'} 接待。")
    if e.presence not in (AVAILABLE, BUSY):
        raise Refused(f"{name} 当前{PRESENCE_WORDS[e.presence]},不能接待。请先发 回来 或 签到。")
    nxt = ctx.day.next_up(approved=name)
    if nxt != name:
        raise Refused(f"现在轮到 {nxt or '(无人在岗)'} 接待,{name} 请稍候(非当值人员不得上前)。")


def take_walk_in(ctx: Ctx, name: str, category: str, customer_id: int | None = None) -> m.Reception:
    """A rotation reception: counted in shift, uncounted (queue untouched) outside it."""
    if not ctx.in_shift():
        ctx.note(f"{name} 班次外接待,不计名次")
        return ctx.start_reception(name, "off_shift", customer_id)
    check_walk_in(ctx, name)
    e = ctx.day.entry(name)
    if e.presence == BUSY:
        e.approved -= 1
        ctx.note(f"{name} 经经理批准,接待中再接一位新客户")
    ctx.note(*ctx.day.take_walk_in(name))
    return ctx.start_reception(name, category, customer_id, counted_for=name)


def receive(cmd: c.Receive, ctx: Ctx) -> str:
    me = ctx.salesperson(ctx.sender)
    take_walk_in(ctx, me, "new")
    return f"{me} 接待新客户。客户留资后请发:到访 姓名 手机。"


def refund(ctx: Ctx, r: m.Reception, why: str) -> None:
    """A counted reception becomes uncounted: count −1 and a make-up (优先补接)."""
    if r.counted_for and ctx.day.entry(r.counted_for) and r.day == ctx.today:
        ctx.note(*ctx.day.refund(r.counted_for, why))
    r.counted_for = None


def see_off(cmd: c.SeeOff, ctx: Ctx) -> str:
    me = ctx.sender
    open_ = ctx.open_receptions(me)
    if cmd.key:
        open_ = [r for r in open_ if r.customer_id and _matches(ctx, r.customer_id, cmd.key)]
    if not open_:
        raise Refused(f"{me} 现在没有接待中的客户" + (f"「{cmd.key}」" if cmd.key else "") + "。")
    lines = []
    for r in open_:
        ctx.end_reception(r)
        lines += _after_reception(ctx, r)
    ctx.note(f"{me} 送客")
    return f"{me} 送客,已在岗。" + ("\n" + "\n".join(lines) if lines else "")


def _matches(ctx: Ctx, customer_id: int, key: str) -> bool:
    row = ctx.s.get(m.Customer, customer_id)
    return key in (row.phone, row.name)


def _after_reception(ctx: Ctx, r: m.Reception) -> list[str]:
    """义务接待/代接 ended without a deal today: make-up; auto_dealer counts the owner (RULES §4)."""
    if r.category not in ("obligation", "helper") or ctx.deal_today(r.customer_id):
        return []
    lines = []
    if r.category == "helper" and ctx.policy.helper_no_deal_owner_counted and r.for_owner:
        if ctx.day.entry(r.for_owner):
            ctx.note(*ctx.day.count_out_of_rotation(r.for_owner))
        r.counted_for = r.for_owner
        lines.append(f"代接未成交:计 {r.for_owner} 一个名次")
    if r.category == "obligation" or ctx.policy.helper_no_deal_owner_counted:
        if ctx.day.entry(r.member):
            ctx.note(*ctx.day.give_makeup(r.member, "义务接待/代接未成交"))
            lines.append(f"{r.member} 获得一次补接")
    return lines


# ---- 非客 -----------------------------------------------------------------------------
def non_buyer(cmd: c.NonBuyer, ctx: Ctx) -> str:
    if cmd.kind not in NON_BUYER_KINDS + ERRAND_KINDS:
        raise Refused("非客 类型 应为:" + "/".join(NON_BUYER_KINDS + ERRAND_KINDS) + "。")
    me = ctx.sender
    open_ = ctx.open_receptions(me)
    if not open_:
        raise Refused(f"{me} 现在没有接待中的客户,无需报非客。")
    r = open_[-1]
    window = timedelta(minutes=ctx.policy.non_buyer_window_minutes)
    if ctx.local(r.started_at) + window < ctx.now:
        ctx.day.pending_non_buyer[me] = {"reception": r.id, "kind": cmd.kind}
        ctx.note(f"{me} 超时报非客({cmd.kind}),待经理确认")
        return (f"已超过 {ctx.policy.non_buyer_window_minutes} 分钟,{me} 报的非客({cmd.kind})"
                f"需经理确认:/批准 {me}")
    return apply_non_buyer(ctx, me, r, cmd.kind)


def apply_non_buyer(ctx: Ctx, me: str, r: m.Reception, kind: str) -> str:
    errand = kind in ERRAND_KINDS
    r.category, r.kind = ("errand" if errand else "non_buyer"), kind
    was_counted = r.counted_for is not None
    refund(ctx, r, f"非客:{kind}")
    ctx.note(f"{me} 接待的是{kind},不计名次")
    if errand:
        ctx.end_reception(r)
        return f"{kind}不算接待,{me} 的名次已退回" + (",获得补接。" if was_counted else "。")
    return f"{kind}不计名次,{me} 的名次已退回" + (",获得补接;" if was_counted else ";") + "请继续接待到送客。"


# ---- manager overrides ------------------------------------------------------------------
def _in_queue(ctx: Ctx, name: str) -> None:
    ctx.salesperson(name)
    ctx.require_in_queue(name)


def set_order(cmd: c.SetOrder, ctx: Ctx) -> str:
    ctx.require_open()
    if sorted(cmd.names) != sorted(ctx.day.names()):
        raise Refused("/顺序 须列出今天在队的全部成员,各一次:" + " ".join(ctx.day.names()))
    ctx.note(*ctx.day.set_order(list(cmd.names)))
    return "顺序已调整。"


def give_makeup(cmd: c.GiveMakeup, ctx: Ctx) -> str:
    _in_queue(ctx, cmd.name)
    ctx.note(*ctx.day.give_makeup(cmd.name, "经理安排"))
    return f"{cmd.name} 获得补接。"


def skip(cmd: c.Skip, ctx: Ctx) -> str:
    _in_queue(ctx, cmd.name)
    ctx.note(*ctx.day.skip(cmd.name, cmd.reason))
    return f"{cmd.name} 被跳过,排到队尾(不补接)。"


def assign(cmd: c.Assign, ctx: Ctx) -> str:
    _in_queue(ctx, cmd.name)
    if ctx.presence(cmd.name) != AVAILABLE:
        raise Refused(f"{cmd.name} 当前{PRESENCE_WORDS[ctx.presence(cmd.name)]},不能指派。")
    ctx.day.assigned = cmd.name
    ctx.note(f"经理指派 {cmd.name} 接待下一位新客户")
    return f"下一位新客户由 {cmd.name} 接待(经理指派)。"


def approve(cmd: c.Approve, ctx: Ctx) -> str:
    _in_queue(ctx, cmd.name)
    pending = ctx.day.pending_non_buyer.pop(cmd.name, None)
    if pending:
        r = ctx.s.get(m.Reception, pending["reception"])
        ctx.note(f"经理确认 {cmd.name} 的非客({pending['kind']})")
        return "经理已确认。" + apply_non_buyer(ctx, cmd.name, r, pending["kind"])
    e = ctx.day.entry(cmd.name)
    if e.presence != BUSY:
        raise Refused(f"{cmd.name} 没有待确认的非客,也不在接待中,无需批准。")
    e.approved += 1
    ctx.note(f"经理批准 {cmd.name} 接待中再接一位新客户")
    return f"已批准 {cmd.name} 再接待一位新客户。"
