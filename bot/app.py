"""The bus: Incoming → parse → handler inside one unit of work → Outgoing (scheduled work: bot/scheduled.py)."""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import replace
from datetime import datetime

from bot import logsetup, metrics, pipeline
from bot.clock import Clock
from bot.identity import Answered, Identities
from bot.outbox import Stored, reply_key
from bot.parser import Hint, Unknown, Usage, command_verb, parse
from bot.scheduled import Scheduled
from handlers import commands as c
from handlers.benefit_cmds import notices
from handlers.charts import ChartDrawer
from handlers.context import Ctx
from handlers.export_rows import WorkbookWriter
from handlers.jobs import EVENT_RETENTION
from handlers.messages import Incoming, Outgoing
from handlers.queue_cmds import next_line
from handlers.registry import HANDLERS, READ_ONLY, STATIC
from handlers.reply import Reply
from handlers.settings import ProjectSettings
from rules import texts as T
from rules.enums import MessageKind
from rules.errors import Refused
from rules.queue import Day
from storage.db import OUTAGE, DatabaseProblem, explain
from storage.retry import retrying
from storage.uow import Duplicate, UnitOfWork, Units

log = logging.getLogger("reception")
REGISTER_TABLES = ("customers", "customer_phones", "receptions", "deals")   # the register (COMMANDS "Private chats")


class App:
    def __init__(self, uows: Units, projects: list[ProjectSettings], clock: Clock,
                 write_workbook: WorkbookWriter | None = None, draw_chart: ChartDrawer | None = None,
                 typed_names: frozenset[str] = frozenset()):
        self.uows = uows                            # makes every unit of work (storage/uow.py; the fakes in tests)
        self.engine = uows.engine                   # the web board, health and the state dump read it directly
        self.clock = clock                          # the one wall clock: adapters, the sweep and the console read it
        self.write_workbook = write_workbook        # /导出's Excel writer (bot/adapters/xlsx.py)
        self.draw_chart = draw_chart                # /周报 /月报's PNG (bot/adapters/charts.py)
        self.projects = {p.name: p for p in projects}
        self.default = projects[0].name
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.scheduled = Scheduled(uows, self.projects, self.worker)
        self.outbox = self.scheduled.outbox
        # who sent a message: a platform account linked to a member, or (typed_names: the console, chosen
        # by the composition root) the name typed as the sender
        self.identities = Identities(uows, self.projects, self.outbox, self._reply, typed_names)
        self.rosters = Rosters()

    # ---- BotPort -------------------------------------------------------------------
    def handle(self, msg: Incoming) -> list[Outgoing]:
        """One message, its log lines tagged with its platform, event id, verb and (once known) project."""
        with logsetup.context(platform=msg.platform, event_id=msg.event_id, verb=command_verb(msg.text),
                              project=msg.project):
            out = self._handle_one(msg)
            log.info("handled: %d answer(s)", len(out))       # one line per message, its fields in the context
            return out

    def _handle_one(self, msg: Incoming) -> list[Outgoing]:
        if msg.sent_at is not None and msg.at - msg.sent_at > EVENT_RETENTION:
            # its id may already be forgotten: handling it could run a command a second time
            log.warning("event %s sent %s is older than the %d-day retention: dropped",
                        msg.event_id, f"{msg.sent_at:%Y-%m-%d}", EVENT_RETENTION.days)
            return self._stored(msg, [])        # (a stored one is done with)
        try:
            return self._stored(msg, self._handle(msg))
        except OUTAGE as e:             # the database is down, not a bug in this message: the caller decides
            raise DatabaseProblem(explain(e, self.engine.url)) from e
        except Exception:
            metrics.COMMANDS.labels(command_verb(msg.text), "error").inc()
            log.exception("failed to handle message %s (%s)", reply_key(msg, "in"), command_verb(msg.text))
            sorry = [Outgoing(T.APOLOGY, to=msg.sender_id if msg.private else None, key=reply_key(msg, "err"),
                              project=msg.project, chat_id=msg.chat_id, platform=msg.platform)]
            try:
                return self._stored(msg, sorry)
            except Exception:           # the outbox is out of reach too: answer anyway (at most once)
                log.exception("the apology for %s is not in the outbox", reply_key(msg, "in"))
                return sorry

    def accept(self, msg: Incoming) -> bool:
        """A platform delivery, stored in its own committed transaction before the platform is told it
        arrived (so a process that dies after the acknowledgement loses nothing); False: stored before."""
        def store() -> bool:
            with self.uows() as uow:
                new = uow.events.store(msg.event_id, msg.at, msg.to_json())
                uow.commit()
                return new
        try:
            return retrying(store)
        except OUTAGE as e:
            raise DatabaseProblem(explain(e, self.engine.url)) from e

    def pending(self, limit: int = 10_000) -> list[Incoming]:
        """Deliveries stored but not handled, oldest first (`handle` claims each one once)."""
        with self.uows(readonly=True) as uow:
            return [Incoming.from_json(p) for p in uow.events.pending(limit)]

    def _stored(self, msg: Incoming, outs: list[Outgoing]) -> list[Outgoing]:
        """Every answer goes through the outbox: a command's own are written in its transaction (Stored),
        the answers of messages that change nothing are written here, their delivery claimed with them
        (so a stored delivery is handled once, even when it changes nothing)."""
        if isinstance(outs, Stored):
            return outs
        if msg.event_id is not None:
            return self._remember(msg, msg.at, outs)
        return self.outbox.store(outs, msg.at, numbered=True) if outs else outs

    def user_id(self, platform: str, project: str, name: str) -> str | None:
        with self.uows(readonly=True) as uow:
            return uow.members.account_of(platform, project, name)

    def chats(self, platform: str, project: str) -> list[str]:
        with self.uows(readonly=True) as uow:
            return uow.projects.chats_of(platform, project)

    # ---- one message ---------------------------------------------------------------
    def _handle(self, msg: Incoming) -> list[Outgoing]:
        try:
            parsed = parse(msg.text)
        except Usage as u:
            metrics.COMMANDS.labels(u.verb.words[0], "usage").inc()
            return self._reply(msg, msg.project, T.USAGE.format(usage=u.verb.usage), "usage")
        except Hint as h:
            metrics.COMMANDS.labels("-", "hint").inc()
            return self._reply(msg, msg.project, h.text, "hint")
        except Unknown as u:
            metrics.COMMANDS.labels("-", "unknown").inc()
            hint = T.UNKNOWN_HINT.format(word=u.suggestion) if u.suggestion else ""
            return self._reply(msg, msg.project, T.UNKNOWN_COMMAND.format(word=u.word, hint=hint), "unknown")
        if parsed is None:
            return self._reply(msg, msg.project, T.PRIVATE_HINT, "hint") if msg.private else []
        verb, cmd = parsed
        late: list[Outgoing] = []           # due work run before a lookup that no longer held (sent all the same)
        for _ in range(2):                  # (again once: the sender's remembered identity no longer held)
            try:
                project, sender = self._resolve(msg, cmd)
            except Answered as a:
                return Stored(late + self._stored(msg, a.replies)) if late else a.replies
            try:
                out = self._run(msg, project, sender, verb, cmd)
                return Stored(late + out) if late else out
            except Unresolved as u:
                log.info("the roster of %s changed since the sender was looked up: looking up again", project)
                late += u.late
        raise AssertionError("a sender looked up just now is taken as is")

    def _resolve(self, msg: Incoming, cmd) -> tuple[str, str]:
        """(project, member name) for the message (bot/identity.py); raises Answered otherwise."""
        return self.identities.resolve(msg, cmd)

    def _run(self, msg: Incoming, project: str, sender: str, verb, cmd) -> list[Outgoing]:
        """One command in one transaction: the project locked, due work first, then the command."""
        logsetup.add_context(project=project)
        now = msg.at.astimezone(self.projects[project].tz)
        # like a bot that was asleep: catch up first, in batches of their own transactions (only when the
        # next due time kept in memory has come); then the command, run again whole if SQLite was busy
        late = self.scheduled.run_due(now, project) if self.scheduled.maybe_due(project, now) else []
        try:
            return retrying(lambda: self._command(msg, project, sender, verb, cmd, late))
        except Unresolved as u:
            raise Unresolved(late) from u

    def _command(self, msg: Incoming, project: str, sender: str, verb, cmd, late: list) -> list[Outgoing]:
        """The command's unit of work; nothing after its commit touches the database (a retry
        after a busy error therefore never applies it twice)."""
        ps = self.projects[project]
        now = msg.at.astimezone(ps.tz)
        with self.uows() as uow:
            row = uow.lock_project(project)
            if not self.identities.holds(msg, row.roster_version):
                raise Unresolved                # (nothing done yet: the unit of work rolls back)
            if msg.event_id and not _claimed(uow, msg.event_id, now):
                metrics.COMMANDS.labels(verb.words[0], "duplicate").inc()
                return Stored(late)
            steps, next_due = self.scheduled.due_before(uow, row, now)      # (what fell due since: a few steps)
            due = late + steps
            ctx = Ctx(uow, row, ps, Day.from_dict(row.state), now, sender, msg.private,
                      _members=self.rosters.get(project, row.roster_version), write_workbook=self.write_workbook,
                      draw_chart=self.draw_chart)
            before = ctx.day.to_dict()
            command = uow.savepoint() if len(due) > len(late) else None
            try:
                if verb.manager and not ctx.is_manager():
                    raise Refused(T.MANAGER_ONLY.format(word=verb.words[0], sender=sender))
                reply = HANDLERS[type(cmd)](cmd, ctx)
            except Refused as r:
                metrics.COMMANDS.labels(verb.words[0], "refused").inc()
                return Stored(due + self._refused(uow, msg, ctx, command, r.reason))
            replies = self._record(uow, msg, ctx, cmd, reply, before)
            if command is not None:                 # a new reply for sure: the delivery is claimed above
                command.commit()
            next_due = self.scheduled.next_after(uow, row, next_due)
            uow.commit()
        self.scheduled.keep(row, next_due)
        self.rosters.keep(project, row.roster_version, ctx._members, changed=uow.roster_changed)
        metrics.COMMANDS.labels(verb.words[0], "ok").inc()
        if isinstance(cmd, c.Roster | c.Confirm):
            self.identities.forget()
        return Stored(due + replies)

    def _refused(self, uow: UnitOfWork, msg: Incoming, ctx: Ctx, command, reason: str) -> list[Outgoing]:
        """A refusal changes nothing, but its delivery is still handled once; the due work done before it stays."""
        replies = self._reply(msg, ctx.settings.name, reason, "refused", sender=ctx.sender)
        if command is None:
            uow.rollback()
            return self._remember(msg, ctx.now, replies)
        self.scheduled.forget(ctx.settings.name)        # due work ran: read the next due time afresh
        command.rollback()
        replies = self.outbox.write(uow, replies, ctx.now, numbered=True)   # (its delivery is claimed)
        uow.commit()
        return replies

    def _record(self, uow: UnitOfWork, msg: Incoming, ctx: Ctx, cmd, reply: Reply, before: dict) -> list[Outgoing]:
        """The change log and the new state (unless read-only), then the answer, into the outbox
        in the command's own transaction (bot/pipeline.py, as for scheduled work)."""
        after, changed = ctx.day.to_dict(), False
        if type(cmd) not in READ_ONLY:
            change = pipeline.Change(ctx.sender, msg.text.strip()[:500], reply.audit_kind, reply.undo)
            changes = pipeline.record(uow, ctx, before, change, after)
            changed = after != before or any(t in REGISTER_TABLES for t, _, _ in changes)
        queue_moved = before["queue"] != after["queue"] or before["assigned"] != after["assigned"]
        replies = self._answer(msg, ctx, cmd, reply, queue_moved,
                               announce=msg.private and changed and not reply.private)
        return self.outbox.write(uow, replies, ctx.now, numbered=True)

    def _answer(self, msg: Incoming, ctx: Ctx, cmd, reply: Reply, moved: bool, announce: bool) -> list[Outgoing]:
        """The command's reply (with 下一位 when the queue moved) and the messages it sends besides.
        `announce`: sent privately, it changed the queue or the register (COMMANDS §Parsing "Private
        chats"): the group hears the reply as if posted there, the sender gets a one-line confirmation."""
        if type(cmd) not in READ_ONLY and ctx.day_open() and moved:
            reply = replace(reply, text=reply.text + "\n" + next_line(ctx.day)).mention(ctx.day.next_up())
        reply = replace(reply, mentions=tuple(dict.fromkeys(reply.mentions))).tell(*notices(ctx))
        tag = "static" if type(cmd) in STATIC else "ok"
        project = ctx.settings.name
        out = []
        if announce:
            out = [replace(o, kind=MessageKind.ANNOUNCE) for o in self._outgoing(
                replace(msg, private=False, chat_id=None), project, reply, "group", ctx.sender, ctx.managers())]
            reply = Reply(T.PRIVATE_DONE.format(first=reply.text.splitlines()[0]), tells=reply.tells)
        out = self._outgoing(msg, project, reply, tag, ctx.sender, ctx.managers()) + out
        return out + [Outgoing(t.text, t.to, (), reply_key(msg, f"x{i}"), project, platform=msg.platform)
                      for i, t in enumerate(reply.tells)]

    def _remember(self, msg: Incoming, now: datetime, replies: list[Outgoing]) -> list[Outgoing]:
        """A message that changes nothing: its delivery handled once and its reply written, in one transaction."""
        with self.uows() as uow:
            if msg.event_id and not _claimed(uow, msg.event_id, now):
                return []
            out = self.outbox.write(uow, replies, now, numbered=True)      # (the delivery is claimed)
            uow.commit()
        return out

    def _reply(self, msg: Incoming, project: str | None, text: str, tag: str, sender: str | None = None
               ) -> list[Outgoing]:
        """A plain answer (a usage line, a hint, a refusal …)."""
        return self._outgoing(msg, project, Reply(text), tag, sender)

    def _outgoing(self, msg: Incoming, project: str | None, reply: Reply, tag: str, sender: str | None = None,
                  managers: list[str] | tuple = ()) -> list[Outgoing]:
        """Answer in the chat the message came from (or privately); mask phones unless allowed.
        `sender`: the member's name when already resolved (saves looking it up again)."""
        to = (sender or self.identities.name_of(msg) or msg.sender_id) if (msg.private or reply.private) else None
        unmasked = tag in ("usage", "static") or pipeline.may_show_phones(to, reply, managers)
        where = pipeline.Address(reply_key(msg, tag), project or msg.project, to, msg.chat_id, msg.platform)
        return [pipeline.outgoing(reply, where, unmasked)]

    # ---- scheduled work (bot/scheduled.py) ---------------------------------------------
    def run_due(self, now: datetime, only: str | None = None) -> list[Outgoing]:
        return self.scheduled.run_due(now, only)

    # ---- the outbox (bot/outbox.py) ------------------------------------------------------
    def reclaim_unsent(self, now: datetime) -> list[Outgoing]:
        """Messages whose retry time has come (a crash or a failed send): claimed again, same keys."""
        return self.outbox.reclaim(now)

    def mark_sent(self, keys: list[str], now: datetime) -> None:
        self.outbox.mark_sent(keys, now)

    def mark_sent_until(self, now: datetime) -> None:
        self.outbox.mark_sent(None, now)

    def send_failed(self, keys: list[str], now: datetime) -> None:
        self.outbox.send_failed(keys, now)

    def sent(self, keys: list[str]) -> set[str]:
        return self.outbox.sent(keys)


class Unresolved(Exception):
    """The sender's remembered identity is from before a member or chat change (another process's);
    `late`: the due work run (and stored) before that was found."""

    def __init__(self, late: list[Outgoing] | None = None):
        super().__init__()
        self.late = late or []


class Rosters:
    """Each project's active roster (Ctx.members), kept in memory under the project's roster_version: a
    member change in any process bumps the version in its own transaction, and every command reads the
    version with the project lock, so a roster kept here is never older than the database's."""

    def __init__(self):
        self._kept: dict[str, tuple[int, list]] = {}

    def get(self, project: str, version: int) -> list | None:
        kept = self._kept.get(project)
        return list(kept[1]) if kept is not None and kept[0] == version else None

    def keep(self, project: str, version: int, members: list | None, changed: bool) -> None:
        """After a commit: the roster the command read under `version`, unless the command changed a member
        (its version is then a new one, read again by the next command)."""
        if changed:
            self._kept.pop(project, None)
        elif members is not None:
            self._kept[project] = (version, list(members))


def _claimed(uow: UnitOfWork, event_id: str, now: datetime) -> bool:
    """The delivery is this process's to handle (False: a duplicate, already handled)."""
    try:
        uow.claim_event(event_id, now)
    except Duplicate:
        log.info("duplicate delivery %s ignored", event_id)
        return False
    return True
