"""Scheduled work for the bus: run what is due inside the project's lock, write each message to the
outbox (bot/outbox.py) under its work-item key: a second process finds it taken.

Late work runs in batches of BATCH steps, one transaction each: a long catch-up never holds the lock
long, and what it did is committed as it goes. After downtime, a day's greeting, 日报 and nudges
are not sent once that day is over; one catch-up line tells the group instead."""
from __future__ import annotations

import logging
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import metrics
from bot.outbox import Outbox
from bot.privacy import mask_phones
from handlers.context import Ctx
from handlers.jobs import due_jobs
from handlers.messages import Outgoing
from handlers.settings import ProjectSettings
from rules import texts as T
from rules.enums import AuditKind, MessageKind
from rules.queue import Day
from rules.schedule import in_quiet_hours, past_its_day
from storage import models as m
from storage.repos.audit import Entry
from storage.uow import UnitOfWork

log = logging.getLogger("reception")
MAX_STEPS = 10_000      # a job that never moves its due time on must not hang the bot
BATCH = 20              # scheduled steps per transaction
CATCH_UP_LIMIT = timedelta(days=31)     # `say`/`replay`/`run` further behind than this need --catch-up


def first_due(uow: UnitOfWork, project_id: int, next_open_at, next_summary_at) -> datetime | None:
    """The earliest time anything falls due for this project: one statement on indexed columns."""
    cust, nudge = uow.projects.earliest_reminders(project_id)
    cands = [t for t in (next_open_at, next_summary_at, cust, nudge) if t is not None]
    return min(cands) if cands else None


@dataclass
class Skipped:
    """Stale announcements left out during one catch-up: not made (`count`), or made by a process
    that was killed before sending them (`dropped`, by kind)."""
    count: int = 0
    dropped: Counter = field(default_factory=Counter)


class Scheduled:
    def __init__(self, engine, projects: dict[str, ProjectSettings], worker: str):
        self.engine, self.projects, self.worker = engine, projects, worker
        self.outbox = Outbox(engine, worker, {n: p.tz for n, p in projects.items()})
        self.continuous = False     # True: late work is a bot that never stopped (`replay`), not downtime
        self.next_due: dict[str, datetime | None] = {}  # project → its next due time as last read here (a hint)

    # ---- the next due time, kept in memory (a hint: the command's locked transaction runs `due_in`) ----
    def maybe_due(self, name: str, now: datetime) -> bool:
        """Whether a command must first run the batched catch-up: the project's next due time, as this
        process last read it, is unknown or ≤ now. Work another process made due sooner is still run by
        the command's own locked transaction (`due_in`), and the sweep reads the time afresh."""
        if name not in self.next_due:
            return True
        t = self.next_due[name]
        return t is not None and t <= now

    def next_after(self, uow: UnitOfWork, row: m.Project, moved: bool) -> datetime | None:
        """Inside a command's transaction, after it ran: the project's next due time, kept once it commits.
        `moved`: reminders may have changed (one statement); otherwise the hint so far, or the project's
        next opening or summary if sooner."""
        if moved or row.name not in self.next_due:
            return first_due(uow, row.id, row.next_open_at, row.next_summary_at)
        cands = [t for t in (self.next_due[row.name], row.next_open_at, row.next_summary_at) if t is not None]
        return min(cands) if cands else None

    def run_due(self, now: datetime, only: str | None = None) -> list[Outgoing]:
        """Run every job due by `now`, in time order, each at the time it fell due, BATCH steps per
        transaction; a catch-up that skipped stale announcements ends with one line to the group."""
        out: list[Outgoing] = []
        for name in ([only] if only else list(self.projects)):
            out += self._catch_up(name, now)
        return out

    def _catch_up(self, name: str, now: datetime) -> list[Outgoing]:
        out, skipped, first = [], Skipped(), None
        for _ in range(MAX_STEPS // BATCH):
            t = self.next_due[name] = self.first_due(name)
            if t is None or t > now:
                break
            once, first = first is None, first or t
            with UnitOfWork(self.engine) as uow:
                row = uow.lock_project(name)
                if once and not self.continuous:        # once per catch-up: what a killed process left
                    skipped.dropped.update(self.outbox.drop_stale(uow, name, row.id, now))
                out += self.due_in(uow, row, now, skipped)
                more = self.first_due(name, uow)
                if (skipped.count or skipped.dropped) and (more is None or more > now):
                    out += self._catch_up_line(uow, row, first, now, out, skipped)
                uow.commit()
        return out

    def first_due(self, name: str, uow: UnitOfWork | None = None) -> datetime | None:
        """When the project's next scheduled work falls due (idle sweeps take no write lock)."""
        with (UnitOfWork(self.engine, readonly=True) if uow is None else nullcontext(uow)) as u:
            p = u.projects.schedule_of(name)
            return first_due(u, *p) if p else None

    def behind(self, name: str, now: datetime) -> timedelta:
        """How far the project's scheduled work lags `now` (zero when nothing is late)."""
        t = self.first_due(name)
        return max(now - t, timedelta(0)) if t is not None else timedelta(0)

    def last_change(self, name: str) -> datetime | None:
        """The time of the project's latest recorded change (a command or scheduled work)."""
        with UnitOfWork(self.engine, readonly=True) as uow:
            return uow.audit.last_at(name)

    def due_in(self, uow: UnitOfWork, row: m.Project, now: datetime, skipped: Skipped | None = None,
               limit: int = BATCH) -> list[Outgoing]:
        """Inside the caller's transaction (project locked): run what is due by `now`, at most `limit` steps."""
        ps, out, skipped = self.projects[row.name], [], skipped or Skipped()
        for _ in range(limit):
            t = first_due(uow, row.id, row.next_open_at, row.next_summary_at)
            if t is None or t > now:
                break
            out += self._jobs_at(uow, row, ps, t.astimezone(ps.tz), now, skipped)
            uow.forget_changes()
        return out

    def _jobs_at(self, uow, row, ps: ProjectSettings, at: datetime, now: datetime, skipped: Skipped) -> list[Outgoing]:
        ctx = Ctx(uow, row, ps, Day.from_dict(row.state), at, T.SYSTEM_ACTOR)
        before = ctx.day.to_dict()
        msgs = due_jobs(ctx)
        ctx.makeups_used()
        changes = uow.changes()
        if ctx.reasons:
            uow.audit.record(row.id, at, Entry(T.SYSTEM_ACTOR, T.SCHEDULED_COMMAND, ctx.reasons,
                                               AuditKind.SYSTEM, {"day": before, "rows": changes}))
        row.state = ctx.day.to_dict()
        out = []
        for key, to, text, mentions, kind in msgs:
            if not self.continuous and past_its_day(kind, at.date(), now.astimezone(ps.tz).date()):
                skipped.count += 1
                continue
            o = Outgoing(mask_phones(text) if to is None else text, to, tuple(mentions), key, ps.name, at=at,
                         kind=kind)
            if self.outbox.claim(uow, o, row.id, now):
                metrics.JOBS.labels(str(kind)).inc()
                out.append(o)
        return out

    def _catch_up_line(self, uow, row, first: datetime, now: datetime, sent: list[Outgoing],
                       skipped: Skipped) -> list[Outgoing]:
        """One line to the group after downtime: how long the bot was away, how many reminders went out,
        and which of the messages a killed process left unsent are past their day and dropped."""
        ps = self.projects[row.name]
        days = (now.astimezone(ps.tz).date() - first.astimezone(ps.tz).date()).days
        text = T.CATCH_UP.format(days=days, n=sum(1 for o in sent if o.to is not None)) if skipped.count else ""
        if skipped.dropped:
            what = "、".join(T.CATCH_UP_KIND.format(kind=name, n=skipped.dropped[k])
                            for k, name in T.MESSAGE_KINDS.items() if k in skipped.dropped)
            text += T.CATCH_UP_DROPPED.format(what=what)
        if in_quiet_hours(now.astimezone(ps.tz), ps.policy):       # nothing is pushed at night
            log.info("%s: back after %d days inside the quiet hours; no catch-up line", row.name, days)
            return []
        key = f"catchup:{row.id}:{now.astimezone(ps.tz):%Y%m%d}"        # one a day, however many processes
        o = Outgoing(text, None, (), key, row.name, at=now, kind=MessageKind.CATCH_UP)
        return [o] if self.outbox.claim(uow, o, row.id, now) else []
