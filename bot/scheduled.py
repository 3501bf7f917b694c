"""Scheduled work for the bus: run what is due inside the project's lock; the jobs' `Reply` objects go
through the same pipeline as a command's answer (bot/pipeline.py: change log, state, masking), and
into the outbox (bot/outbox.py) under their work-item keys in one statement: a second process finds
them taken.

One statement finds every project's next due time (the idle sweep is that one statement).

Late work runs in batches of BATCH steps, one transaction each: a long catch-up never holds the lock
long, and what it did is committed as it goes. After downtime, a day's greeting, 日报 and nudges
are not sent once that day is over; one catch-up line tells the group instead."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot import metrics, pipeline
from bot.outbox import Outbox
from handlers.context import Ctx
from handlers.jobs import due_jobs
from handlers.messages import Outgoing
from handlers.reply import Reply
from handlers.settings import ProjectSettings
from rules import texts as T
from rules.enums import MessageKind
from rules.queue import Day
from rules.schedule import in_quiet_hours, past_its_day
from storage.repos.projects import ProjectRow
from storage.uow import UnitOfWork, Units

log = logging.getLogger("reception")
MAX_STEPS = 10_000      # a job that never moves its due time on must not hang the bot
BATCH = 20              # scheduled steps per transaction
CATCH_UP_LIMIT = timedelta(days=31)     # `say`/`replay`/`run` further behind than this need --catch-up


def first_due(uow: UnitOfWork, project_id: int, next_open_at, next_summary_at) -> datetime | None:
    """The earliest time anything falls due for this project: one statement on indexed columns."""
    return earliest(next_open_at, next_summary_at, *uow.projects.earliest_reminders(project_id))


def earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


class Known(NamedTuple):
    """A project's next due time as this process knows it, under the project's due_version then: a process
    that brings a reminder sooner bumps the version (bot/pipeline.record), so the others read again."""
    version: int
    at: datetime | None


class Step(NamedTuple):
    """One scheduled step: the time it fell due, and whether a customer reminder / a nudge is due by
    then (when not, the step leaves its query out)."""
    at: datetime
    customers: bool
    nudges: bool


def next_step(uow: UnitOfWork, row: ProjectRow) -> Step | None:
    """The project's next step (None: nothing scheduled): one statement on indexed columns."""
    cust, nudge = uow.projects.earliest_reminders(row.id)
    t = earliest(row.next_open_at, row.next_summary_at, cust, nudge)
    return None if t is None else Step(t, cust is not None and cust <= t, nudge is not None and nudge <= t)


@dataclass
class Skipped:
    """Stale announcements left out during one catch-up: not made (`count`), or made by a process
    that was killed before sending them (`dropped`, by kind)."""
    count: int = 0
    dropped: Counter = field(default_factory=Counter)


class Scheduled:
    def __init__(self, uows: Units, projects: dict[str, ProjectSettings], worker: str):
        self.uows, self.projects, self.worker = uows, projects, worker
        self.outbox = Outbox(uows, worker, {n: p.tz for n, p in projects.items()})
        self.continuous = False     # True: late work is a bot that never stopped (`replay`), not downtime
        self.known: dict[str, Known] = {}     # project → its next due time as last read or moved here
        self._swept: dict[str, date] = {}     # project → the local day its stale messages were last dropped

    # ---- the next due time, kept in memory ------------------------------------------------------------
    def maybe_due(self, name: str, now: datetime) -> bool:
        """Whether a command must first run the batched catch-up: the project's next due time, as this
        process last read or moved it, is unknown or ≤ now. (Inside the command's transaction `fresh`
        also checks that no other process brought a reminder sooner since.)"""
        known = self.known.get(name)
        return known is None or (known.at is not None and known.at <= now)

    def fresh(self, row: ProjectRow, now: datetime) -> bool:
        """Under the project's lock: the time kept here is still right (its due_version is the row's:
        no process brought a reminder sooner since) and nothing is due by `now`."""
        known = self.known.get(row.name)
        return known is not None and known.version == row.due_version and (known.at is None or known.at > now)

    def due_before(self, uow: UnitOfWork, row: ProjectRow, now: datetime) -> tuple[list[Outgoing], datetime | None]:
        """Inside a command's transaction (project locked), before the command: what fell due since
        (a few steps), and the project's next due time after them. With the time kept here still fresh,
        no statement."""
        if self.fresh(row, now):
            return [], self.known[row.name].at
        return self._steps(uow, row, now, Skipped(), BATCH)

    def next_after(self, uow: UnitOfWork, row: ProjectRow, before: datetime | None) -> datetime | None:
        """Inside a command's transaction, after it ran: the project's next due time, kept once it commits.
        From the time before the command and how it moved the reminder times (uow.reminders), with no
        statement; read afresh (one statement) when the command took away a time that may have been the
        soonest, or set one whose former time it did not know."""
        moved = uow.reminders
        if moved.unknown or (moved.soonest_cleared is not None and (before is None or moved.soonest_cleared <= before)):
            return first_due(uow, row.id, row.next_open_at, row.next_summary_at)
        return earliest(before, moved.soonest_set, row.next_open_at, row.next_summary_at)

    def keep(self, row: ProjectRow, at: datetime | None) -> None:
        """After a commit: the project's next due time, under the due_version the row now has."""
        self.known[row.name] = Known(row.due_version, at)

    def forget(self, name: str) -> None:
        self.known.pop(name, None)

    def run_due(self, now: datetime, only: str | None = None) -> list[Outgoing]:
        """Run every job due by `now`, in time order, each at the time it fell due, BATCH steps per
        transaction; a catch-up that skipped stale announcements ends with one line to the group.
        Which projects have anything due: one statement over them all."""
        out: list[Outgoing] = []
        due = self.due_times(only)
        for name in ([only] if only else list(self.projects)):
            if name in due:
                out += self._catch_up(name, now, due[name])
        return out

    def due_times(self, only: str | None = None) -> dict[str, Known]:
        """Every project's next due time and due_version, in one read-only statement (indexed minimums
        per project); `only`: that project's (its row, then its minimums)."""
        with self.uows(readonly=True) as uow:
            if only is not None:
                p = uow.projects.schedule_of(only)
                return {} if p is None else {only: Known(p[3], first_due(uow, *p[:3]))}
            return {name: Known(version, earliest(*times)) for name, version, *times in uow.projects.schedules()}

    def _catch_up(self, name: str, now: datetime, known: Known) -> list[Outgoing]:
        """The project's due work from its next due time on, BATCH steps per transaction."""
        out: list[Outgoing] = []
        skipped, first, t = Skipped(), known.at, known.at
        self.known[name] = known                # (what a command reads: bot/app.py `_run`)
        for batch in range(MAX_STEPS // BATCH):
            if t is None or t > now:
                break
            with self.uows() as uow:
                row = uow.lock_project(name)
                today = now.astimezone(self.projects[name].tz).date()
                if batch == 0 and not self.continuous and self._swept.get(name) != today:
                    # what a killed process left unsent from an earlier day: once a day per project (a row
                    # becomes stale only at midnight; reclaim drops a stale row it meets in between)
                    skipped.dropped.update(self.outbox.drop_stale(uow, name, row.id, now))
                done, t = self._steps(uow, row, now, skipped, BATCH)
                out += done
                if (skipped.count or skipped.dropped) and (t is None or t > now):
                    assert first is not None
                    out += self._catch_up_line(uow, row, first, now, out, skipped)
                uow.commit()
                self.keep(row, t)
                self._swept[name] = today
        return out

    def first_due(self, name: str) -> datetime | None:
        """When the project's next scheduled work falls due (idle sweeps take no write lock)."""
        known = self.due_times(name).get(name)
        return known.at if known else None

    def behind(self, name: str, now: datetime) -> timedelta:
        """How far the project's scheduled work lags `now` (zero when nothing is late)."""
        t = self.first_due(name)
        return max(now - t, timedelta(0)) if t is not None else timedelta(0)

    def last_change(self, name: str) -> datetime | None:
        """The time of the project's latest recorded change (a command or scheduled work)."""
        with self.uows(readonly=True) as uow:
            return uow.audit.last_at(name)

    def _steps(self, uow: UnitOfWork, row: ProjectRow, now: datetime, skipped: Skipped, limit: int
               ) -> tuple[list[Outgoing], datetime | None]:
        """Inside the caller's transaction (project locked): run what is due by `now`, at most `limit`
        steps, and when the project's next work falls due after them."""
        ps, out = self.projects[row.name], []
        step = next_step(uow, row)
        for _ in range(limit):
            if step is None or step.at > now:
                break
            out += self._jobs_at(uow, row, ps, step._replace(at=step.at.astimezone(ps.tz)), now, skipped)
            uow.forget_changes()
            step = next_step(uow, row)
        return out, step.at if step else None

    def _jobs_at(self, uow, row, ps: ProjectSettings, step: Step, now: datetime, skipped: Skipped) -> list[Outgoing]:
        """One step at the time it fell due: the jobs' replies through the pipeline, as a command's
        are; a day's announcement reached after its day (downtime) is left out and counted."""
        at = step.at
        ctx = Ctx(uow, row, ps, Day.from_dict(row.state), at, T.SYSTEM_ACTOR)
        before = ctx.day.to_dict()
        replies = due_jobs(ctx, step.customers, step.nudges)
        pipeline.record(uow, ctx, before, pipeline.SCHEDULED)
        today = now.astimezone(ps.tz).date()
        fresh = [r for r in replies if self.continuous or not past_its_day(r.kind, at.date(), today)]
        skipped.count += len(replies) - len(fresh)
        out = self.outbox.claim_many(uow, [pipeline.job_outgoing(r, ps.name, at) for r in fresh], row.id, now)
        for o in out:
            metrics.JOBS.labels(str(o.kind)).inc()
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
        line = Reply(text, kind=MessageKind.CATCH_UP, key=key)
        return self.outbox.claim_many(uow, [pipeline.job_outgoing(line, row.name, now)], row.id, now)
