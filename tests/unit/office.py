"""One sales office on fakes: the real parser, the handler table and the scheduler's jobs, on a
FakeUnitOfWork with a fixed clock per message. The one place the handler tests meet a handler."""
from __future__ import annotations

from dataclasses import dataclass

from bot.config import load_config, project_settings
from bot.parser import parse
from bot.scheduled import Scheduled
from handlers.context import Ctx
from handlers.jobs import initial_times
from handlers.messages import Outgoing
from handlers.queue_cmds import next_line
from handlers.registry import HANDLERS, READ_ONLY
from handlers.reply import Reply
from rules import texts as T
from rules.enums import Role
from rules.errors import Refused
from rules.queue import Day
from storage import models as m
from tests.conftest import at
from tests.unit.fakes import FakeUnitOfWork

MAX_STEPS = 10_000


@dataclass(frozen=True)
class Said:
    """What a command answered: its text (with 下一位 when the queue moved) and the handler's Reply
    (private, mentions, tells …), or the refusal."""
    text: str
    refused: bool = False
    reply: Reply | None = None


class Office:
    """`config`: a config.yaml path (one project); `since`: when the bot started ('2026-11-20 08:00')."""

    def __init__(self, config, since: str):
        self.settings = project_settings(load_config(config))[0]
        self.uow = FakeUnitOfWork()
        self.scheduled = Scheduled(None, {self.settings.name: self.settings}, "test")
        opens, summary = initial_times(at(since), self.settings)
        with self.uow:
            self.project = self.uow.projects.add(m.Project(name=self.settings.name, state={},
                                                           next_open_at=opens, next_summary_at=summary))
            self._add_members()
            self.uow.commit()

    def _add_members(self) -> None:
        roles = {n: Role.SALES for n in self.settings.salespeople}
        for n in self.settings.managers:
            roles[n] = Role.BOTH if n in roles else Role.MANAGER
        for pos, (name, role) in enumerate(roles.items(), 1):
            self.uow.members.add(m.Member(project_id=self.project.id, name=name, role=role, position=pos))

    def ctx(self, when: str, sender: str = "") -> Ctx:
        return Ctx(self.uow, self.project, self.settings, Day.from_dict(self.project.state), at(when), sender)

    def due(self, when: str) -> list[Outgoing]:
        """Scheduled work due by `when`, as the bot running all along would have done it."""
        with self.uow:
            out = self.scheduled.due_in(self.uow, self.project, at(when), limit=MAX_STEPS)
            self.uow.commit()
        return out

    def say(self, who: str, text: str, when: str) -> Said:
        """One message, as the bus runs it: due work first, then the command in its own unit of work;
        a refusal changes nothing."""
        self.due(when)
        verb, cmd = parse(text)
        with self.uow:
            ctx = self.ctx(when, who)
            before = ctx.day.to_dict()
            try:
                if verb.manager and not ctx.is_manager():
                    raise Refused(T.MANAGER_ONLY.format(word=verb.words[0], sender=who))
                reply = HANDLERS[type(cmd)](cmd, ctx)
            except Refused as r:
                return Said(r.reason, refused=True)
            after, text = ctx.day.to_dict(), reply.text
            if type(cmd) not in READ_ONLY:
                self.project.state = after
                if ctx.day_open() and (before["queue"], before["assigned"]) != (after["queue"], after["assigned"]):
                    text += "\n" + next_line(ctx.day)
            self.uow.commit()
        return Said(text, reply=reply)

    def queue(self) -> list[dict]:
        """Today's queue as the state dump shows it."""
        return [{"name": e.name, "presence": e.presence, "counted": e.counted, "makeup": e.makeup is not None}
                for e in Day.from_dict(self.project.state).queue]

    def state(self) -> tuple:
        """Everything a command could change: the day and every row."""
        return self.project.state, [[_row(r) for r in t.rows] for t in self.uow.tables()]


def _row(r) -> dict:
    return {c.key: getattr(r, c.key) for c in r.__table__.columns}
