"""One pipeline for a command and for scheduled work (STYLE: "scheduled jobs enter at the bus like any
message"). Inside the caller's unit of work, with the project locked:

1. `record`: the change-log row (with the before-images /撤销 restores) and the day's new state;
2. `outgoing`: each `Reply` becomes an `Outgoing`, phones masked wherever others could read them;
3. the outbox (bot/outbox.py) writes them under their keys, in the same transaction.

The command path (bot/app.py) and the scheduler (bot/scheduled.py) differ only in what they pass:
who made the change, how an answer is keyed and addressed, and whether a taken key means "numbered
again" (a command's new answer) or "done already" (a job's work item, at most once).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.privacy import mask_phones
from handlers.context import Ctx
from handlers.messages import Outgoing
from handlers.reply import Reply
from rules import texts as T
from rules.enums import AuditKind
from storage.models import Audit
from storage.repos.audit import Entry
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Change:
    """Who made a change, as the change log names it: a member's command, an /撤销 (`undone`: the
    change-log rows it restored), or scheduled work (SCHEDULED)."""
    actor: str
    command: str
    kind: AuditKind = AuditKind.CMD
    undone: tuple[Audit, ...] = ()


SCHEDULED = Change(T.SYSTEM_ACTOR, T.SCHEDULED_COMMAND, AuditKind.SYSTEM)


def record(uow: UnitOfWork, ctx: Ctx, before: dict, change: Change, after: dict | None = None) -> list[list]:
    """The change-log row and the day's new state, in the caller's transaction; returns the rows changed
    ([table, id, before-image or None]). A command logs whatever it changed (「无变化」 when it gave no
    reason); scheduled work logs what it gives a reason for (a due time moved on is no news)."""
    after = ctx.day.to_dict() if after is None else after     # (a command has it already)
    ctx.makeups_used()
    changes = uow.changes()
    if ctx.reasons or (change.kind != AuditKind.SYSTEM and (changes or after != before)):
        undo = None if change.undone else {"day": before, "rows": changes}
        audit_id = uow.audit.write(ctx.project.id, ctx.now, Entry(change.actor, change.command,
                                                                  ctx.reasons or [T.NO_CHANGE], change.kind, undo))
        for target in change.undone:
            target.undone_by = audit_id
    # (the day's counts live in the receptions table; a reminder come sooner tells the other processes)
    uow.projects.save_state(ctx.project, ctx.saved_day(), sooner=uow.reminders.sooner)
    return changes


def may_show_phones(to: str | None, reply: Reply, managers: list[str] | tuple = ()) -> bool:
    """A full phone only in a private message: to a manager, or to a member the reply was written for
    (their own customers: 我的客户, a reminder). Never in the group (RULES §10)."""
    return to is not None and (reply.full_phones or to in managers)


@dataclass(frozen=True)
class Address:
    """Where a reply goes and under which outbox key: `to` a member privately (None: the group, in
    `chat_id` when it answers a message there), through `platform` (None: every one); `at`: the time
    a job fell due."""
    key: str
    project: str | None
    to: str | None = None
    chat_id: str | None = None
    platform: str | None = None
    at: datetime | None = None


def outgoing(reply: Reply, where: Address, unmasked: bool = False) -> Outgoing:
    """The message as the outbox stores it: phones masked unless `unmasked` (see `may_show_phones`);
    a group message keeps its mentions and the chat it answers."""
    group = where.to is None
    return Outgoing(reply.text if unmasked else mask_phones(reply.text), to=where.to,
                    mentions=reply.mentions if group else (), key=where.key, project=where.project,
                    card=reply.card, at=where.at, file=reply.file, chat_id=where.chat_id if group else None,
                    platform=where.platform, kind=reply.kind)


def job_outgoing(reply: Reply, project: str, at: datetime) -> Outgoing:
    """A scheduled job's message: under its work-item key, to its addressee, at the time it fell due."""
    assert reply.key is not None, reply          # a job names its work item (handlers/jobs.py)
    return outgoing(reply, Address(reply.key, project, reply.to, at=at), may_show_phones(reply.to, reply))
