"""Scheduled work (RULES §7), run for one locked project at the time it fell due.

Each job re-reads what is due inside the project's lock and moves the due time on
in the same transaction, so two processes never do the same work twice. A job returns `Reply`
objects, each with its kind and work-item key; the bus logs, masks and writes them to the outbox
as it does a command's answer (bot/pipeline.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers import named_cmds
from handlers.admin import summary_text
from handlers.context import Ctx
from handlers.queue_cmds import board_line, next_line, open_today
from handlers.reply import Reply
from rules import customers as cr
from rules import texts as T
from rules.enums import MessageKind
from rules.queue import BUSY
from rules.schedule import (
    LAPSE_NOTICE,
    REMIND_EVE,
    REMIND_LAST,
    customer_due,
    in_quiet_hours,
    next_shift_time,
    nudge_wanted,
    out_of_quiet,
    summary_day,
    summary_due,
)
from storage.repos.customers import DueCustomer, Rescheduled


def _group(key: str, text: str, kind: MessageKind, *mentions: str | None) -> Reply:
    """A job's message to the group (phones masked by the bus)."""
    return Reply(text, tuple(n for n in mentions if n), kind=kind, key=key)


def _private(key: str, to: str, text: str, kind: MessageKind) -> Reply:
    """A job's message to one member, written for that reader (a reminder shows the owner's own
    customer's full phone)."""
    return Reply(text, full_phones=True, kind=kind, key=key, to=to)


def due_jobs(ctx: Ctx, customers: bool = True, nudges: bool = True) -> list[Reply]:
    """Everything due for this project by ctx.now, in a fixed order. `customers`/`nudges` False: the
    caller knows no customer reminder / no nudge is due by then (their query is left out)."""
    out: list[Reply] = []
    p = ctx.project
    quiet = in_quiet_hours(ctx.now, ctx.policy)       # nothing is pushed inside the quiet hours
    if p.next_open_at is not None and p.next_open_at <= ctx.now:
        _forget_old_deliveries(ctx)
        if quiet:       # a shift starting inside the quiet hours opens now, is announced at their end
            silent = not ctx.day_open()
            if silent:
                open_today(ctx)
            p.next_open_at = (out_of_quiet(ctx.now, ctx.policy) if silent
                              else next_shift_time(ctx.now, ctx.settings.shift_start))
        else:
            out += _open(ctx)
            p.next_open_at = next_shift_time(ctx.now, ctx.settings.shift_start)
    out += _reminders(ctx) if customers else []
    out += _nudges(ctx) if nudges else []
    if p.next_summary_at is not None and p.next_summary_at <= ctx.now:
        out += _summary(ctx)
    return out


def _summary(ctx: Ctx) -> list[Reply]:
    """The daily summary (§7): never inside the quiet hours, titled with the day it reports, one a day."""
    p, s = ctx.project, ctx.settings
    if in_quiet_hours(ctx.now, ctx.policy):
        p.next_summary_at = out_of_quiet(ctx.now, ctx.policy)
        return []
    day = summary_day(ctx.now, s.shift_end)
    p.next_summary_at = summary_due(day + timedelta(days=1), s.shift_end, s.tz, ctx.policy)
    if ctx.day.date is None or ctx.day.date < day:       # that day never opened
        return []
    return [_group(f"summary:{p.id}:{day}", summary_text(ctx, day), MessageKind.SUMMARY)]


EVENT_RETENTION = timedelta(days=30)     # redelivered platform events are refused for 30 days (≥ 7)


def _forget_old_deliveries(ctx: Ctx) -> None:
    """Once a day: platform event ids older than EVENT_RETENTION are dropped (the table stays small)."""
    ctx.uow.events.forget_before(ctx.now - EVENT_RETENTION)


def _open(ctx: Ctx) -> list[Reply]:
    """Open the day unless a manager already did; announce it (also a quiet-hours opening)."""
    if ctx.day_open() and ctx.day.opened_by != ctx.sender:
        return []
    if not ctx.day_open():
        open_today(ctx)
    nxt = ctx.day.next_up()
    text = T.MORNING.format(date=f"{ctx.today:%m-%d}", board=board_line(ctx)) + "\n" + next_line(ctx.day)
    return [_group(f"open:{ctx.project.id}:{ctx.today}", text, MessageKind.GREETING, nxt)]


def _reminders(ctx: Ctx) -> list[Reply]:
    """Reminders due now for the same owner and stage go as one message listing the customers (§7).
    The due rows are taken and moved on set-wise (one UPDATE … RETURNING, one batch UPDATE): no ORM
    objects and no before-images, as /撤销 never takes a reminder back."""
    groups: dict[tuple[str, int], list[tuple[DueCustomer, datetime]]] = {}
    rows = ctx.uow.customers.take_due(ctx.project.id, ctx.now)
    moved = [_reminder_step(ctx, row, groups) for row in rows]
    ctx.uow.customers.reschedule([r for r, row in zip(moved, rows, strict=True) if not r.unchanged(row)])
    return [msg for (owner, stage), items in groups.items() for msg in _remind(ctx, owner, stage, items)]


def _reminder_step(ctx: Ctx, row: DueCustomer, groups: dict) -> Rescheduled:
    """One due customer: its reminder or lapse notice joins its owner's group; its next due time."""
    lapse_due = row.lapse_due_at
    if lapse_due is not None and lapse_due <= ctx.now and row.prev_owner and row.prev_until:
        # lapsed and registered again before the notice went out: the notice names the new owner (§7)
        groups.setdefault((row.prev_owner, LAPSE_NOTICE), []).append((row, ctx.local(row.prev_until)))
        lapse_due = None
    deadline = ctx.local(row.valid_until)
    stage = customer_due(deadline, row.due_stage, ctx.policy) if deadline else None
    if deadline is None or stage is None or row.status != cr.ACTIVE:
        return Rescheduled(row.id, lapse_due, row.due_stage, lapse_due)
    if stage[1] > ctx.now:                  # due for the old lapse only: this one's stage comes later
        return Rescheduled(row.id, min(stage[1], lapse_due or stage[1]), row.due_stage, lapse_due)
    if _wanted(ctx, stage[0], deadline):
        assert row.owner is not None, row.id        # an active customer has an owner (rules.customers)
        groups.setdefault((row.owner, stage[0]), []).append((row, deadline))
    nxt = customer_due(deadline, stage[0], ctx.policy)
    due = min((x for x in (nxt[1] if nxt else None, lapse_due) if x), default=None)
    return Rescheduled(row.id, due, stage[0], lapse_due)


def _wanted(ctx: Ctx, stage: int, deadline: datetime) -> bool:
    """A reminder only before the deadline (stale after downtime), a lapse notice only after it."""
    if stage in (REMIND_EVE, REMIND_LAST):
        return ctx.now <= deadline
    return stage == LAPSE_NOTICE and ctx.now > deadline


def _remind(ctx: Ctx, owner: str, stage: int, items: list[tuple[DueCustomer, datetime]]) -> list[Reply]:
    """One owner's reminders or lapse notices of one stage; each deadline is local time. The key names
    the owner, day, stage and the group's first customer: the combined message is sent exactly once, and
    a later group of the same owner and stage that day (the rows beyond one step's limit) keeps its own."""
    key = f"remind:{ctx.project.id}:{owner}:{ctx.today:%Y%m%d}:{stage}:{min(r.id for r, _ in items)}"
    whos = [(T.CUSTOMER_WHO.format(name=r.name, phone=cr.mask(r.phone)) + _taken(ctx, r, d), r.phone, f"{d:%m-%d}")
            for r, d in items]
    if stage in (REMIND_EVE, REMIND_LAST):
        when = T.REMIND_WHEN_EVE if stage == REMIND_EVE else T.REMIND_WHEN_LAST
        if len(whos) == 1:
            who, phone, deadline = whos[0]
            text = T.REMINDER.format(who=who, when=when, deadline=deadline, phone=phone)
        else:
            text = T.REMINDERS.format(n=len(whos), when=when, items="\n".join(
                T.REMINDER_ITEM.format(who=w, deadline=d, phone=p) for w, p, d in whos))
        return [_private(key, owner, text, MessageKind.REMINDER)]
    days = ctx.policy.tracking_days
    if len(whos) == 1:
        text = T.LAPSED.format(who=whos[0][0], days=days, deadline=whos[0][2])
    else:
        text = T.LAPSED_SEVERAL.format(n=len(whos), days=days, items="\n".join(
            T.LAPSED_ITEM.format(who=w, deadline=d) for w, _, d in whos))
    msgs = [_private(key + ":" + owner, owner, T.LAPSED_TO_OWNER.format(text=text), MessageKind.LAPSE)]
    return msgs + [_private(key + ":" + mgr, mgr, T.LAPSED_TO_MANAGER.format(owner=owner, text=text),
                            MessageKind.LAPSE) for mgr in ctx.managers()]


def _taken(ctx: Ctx, row: DueCustomer, deadline: datetime) -> str:
    """「（现已由 王五 重新登记）」 in a lapse notice about a customer registered again since the
    deadline that lapsed (RULES §7), whoever registered it."""
    again = row.valid_until is None or ctx.local(row.valid_until) != deadline
    return T.LAPSE_TAKEN.format(owner=row.owner) if row.owner and again else ""


def _nudges(ctx: Ctx) -> list[Reply]:
    out: list[Reply] = []
    rows = ctx.uow.receptions.nudges_due(ctx.project.id, ctx.now)
    quiet = in_quiet_hours(ctx.now, ctx.policy)
    for r in rows:
        settled = named_cmds.expired(ctx, r)          # a 点名 nobody confirmed in time stays with the reporter
        if settled is not None:
            out.append(_group(f"named:{r.id}", settled[1], MessageKind.NUDGE, settled[0]))
            continue
        if not nudge_wanted(r.day, ctx.now):     # about an earlier day: the next opening closes it
            r.nudge_at = None
            continue
        # the busy presence ends at once; the nudge itself waits for the end of the quiet hours
        r.nudge_at = out_of_quiet(ctx.now, ctx.policy) if quiet else None
        if ctx.day_open() and ctx.presence(r.member) == BUSY and r.day == ctx.today:
            ctx.day.over_time(r.member)
            ctx.note(T.NUDGE_NOTE.format(member=r.member, minutes=ctx.policy.max_reception_minutes))
        if quiet:
            continue
        mins = ctx.policy.max_reception_minutes
        out.append(_private(f"nudge:{r.id}", r.member,
                            T.NUDGE.format(minutes=mins, since=f"{ctx.local(r.started_at):%H:%M}"), MessageKind.NUDGE))
    return out


def initial_times(now: datetime, settings) -> tuple[datetime, datetime]:
    """A new project opens at today's shift start (at once if the shift is on), else tomorrow's."""
    start = datetime.combine(now.date(), settings.shift_start, tzinfo=settings.tz)
    end = datetime.combine(now.date(), settings.shift_end, tzinfo=settings.tz)
    day = now.date() + timedelta(days=1) if now >= end else now.date()
    summary = summary_due(day, settings.shift_end, settings.tz, settings.policy)
    if now >= end:
        return start + timedelta(days=1), summary
    return max(start, now), summary
