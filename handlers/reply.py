"""What a handler or a scheduled job returns: the message and how it goes out. The bus turns it into
`Outgoing` (bot/pipeline.py), for a command's answer and a job's reminder alike."""
from __future__ import annotations

from dataclasses import dataclass, replace

from rules.enums import AuditKind, MessageKind
from storage.models import Audit


@dataclass(frozen=True)
class Tell:
    """A message besides the answer, privately to one member (a manager, a customer's new owner …)."""

    to: str
    text: str


@dataclass(frozen=True)
class Reply:
    """One command's answer, or one message of a scheduled job (handlers/jobs.py).

    text         the answer (the bus adds 下一位 when the queue moved)
    mentions     members to @mention in a group answer
    card         the queue board as a card, for platforms that render cards
    private      answer in a private chat with the sender
    full_phones  the private answer may show full phones (the sender's own customers)
    file         a local file sent with the answer (/导出, /周报)
    tells        private messages to others, sent with the answer
    undo         an /撤销: the change-log rows it restored (its own audit row is kind "undo")
    kind         what the message is (a reply, the day's greeting, a reminder …): a day's announcements
                 go stale once the day is over
    key          a job's work-item key: the message is written once under it, however many processes
                 run the job (None: a command's answer, keyed by the delivery it answers)
    to           a job's addressee, privately (None: the group); a command answers its sender
    """

    text: str
    mentions: tuple[str, ...] = ()
    card: dict | None = None
    private: bool = False
    full_phones: bool = False
    file: str | None = None
    tells: tuple[Tell, ...] = ()
    undo: tuple[Audit, ...] = ()
    kind: MessageKind = MessageKind.REPLY
    key: str | None = None
    to: str | None = None

    @property
    def audit_kind(self) -> AuditKind:
        return AuditKind.UNDO if self.undo else AuditKind.CMD

    def mention(self, *names: str | None) -> Reply:
        return replace(self, mentions=self.mentions + tuple(n for n in names if n))

    def tell(self, *tells: Tell) -> Reply:
        return replace(self, tells=self.tells + tells)
