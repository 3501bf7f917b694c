"""One sales office's group chat on the real bus and in-memory rows: `bootstrap(uows=FakeUnits())`
builds the App the bot runs, and every message goes through `App.handle` (parser, identity, the
project's lock, due work first, handler, change log, outbox) with no database underneath.

What needs a database (locking between processes, /撤销's before-images) is tested in tests/integration."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.sweep import settle, sweep_once
from handlers.context import Ctx
from handlers.messages import Incoming, Outgoing
from handlers.reply import Tell
from rules.queue import Day
from tests.conftest import at
from tests.unit.fakes import FakeUnits

NOT_DONE = ("refused", "usage", "hint", "unknown")     # answers that change nothing


@dataclass(frozen=True)
class Said:
    """What a command answered, as the group (or the sender, `private`) sees it: the text (with 下一位
    when the queue moved), whether it was refused, and the private messages it sent to others."""
    text: str
    refused: bool = False
    private: bool = False
    tells: tuple[Tell, ...] = ()
    out: tuple[Outgoing, ...] = field(default=(), compare=False)     # everything sent, due work included


class Office:
    """`config`: a config.yaml path (one project); `since`: when the bot started ('2026-11-20 08:00')."""

    def __init__(self, config, since: str):
        self.units = FakeUnits()
        self.uow = self.units.uow
        self.app = bootstrap(config, clock=FakeClock(at(since)), uows=self.units)
        self.settings = next(iter(self.app.projects.values()))
        self.project = self.uow.projects.named(self.settings.name)

    def say(self, who: str, text: str, when: str) -> Said | None:
        """`who` types `text` in the group at `when`: the bus's answer (None: nothing was answered)."""
        msg = Incoming("console", who, text, at(when), project=self.settings.name)
        out = self.app.handle(msg)
        settle(self.app, out, _delivered, msg.at)          # sent, as the console sends and marks them
        base = f"console:{who}:{msg.at.timestamp():.0f}"
        mine = [o for o in out if o.key.startswith(base)]
        main = [o for o in mine if _tag(o) not in ("group",) and not _tag(o).startswith("x")]
        if not main:
            return None
        tells = tuple(Tell(o.to, o.text) for o in mine if _tag(o).startswith("x") and o.to is not None)
        return Said(main[0].text, refused=_tag(main[0]) in NOT_DONE, private=main[0].to is not None,
                    tells=tells, out=tuple(out))

    def due(self, when: str) -> list[Outgoing]:
        """Scheduled work due by `when`, as the bot's sweep runs it: sent and marked sent."""
        return sweep_once(self.app, _delivered, at(when))

    def ctx(self, when: str, sender: str = "") -> Ctx:
        return Ctx(self.uow, self.project, self.settings, Day.from_dict(self.project.state), at(when), sender)

    def queue(self) -> list[dict]:
        """Today's queue as the state dump shows it."""
        day = Day.from_dict(self.project.state)
        if day.date is not None:            # the counts come from the receptions table, as every view's do
            day.take_facts(self.uow.receptions.facts_of_day(self.project.id, day.date))
        return [{"name": e.name, "presence": e.presence, "counted": e.counted, "makeup": e.makeup is not None}
                for e in day.queue]

    def state(self) -> tuple:
        """Everything a command could change: the day and every row."""
        return self.project.state, [[_row(r) for r in t.rows] for t in self.uow.tables()]


def _delivered(msgs: list[Outgoing]) -> set[str]:
    return set()            # every message reached the chat: no key failed


def _tag(o: Outgoing) -> str:
    return o.key.rsplit(":", 1)[-1]


def _row(r) -> dict:
    return {c.key: getattr(r, c.key) for c in r.__table__.columns}
