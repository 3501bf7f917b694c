"""What a handler returns: the answer and how it goes out. The bus (bot/app.py) turns it into `Outgoing`."""
from __future__ import annotations

from dataclasses import dataclass, replace

from rules.enums import AuditKind
from storage.models import Audit


@dataclass(frozen=True)
class Tell:
    """A message besides the answer, privately to one member (a manager, a customer's new owner …)."""

    to: str
    text: str


@dataclass(frozen=True)
class Reply:
    """One command's answer.

    text         the answer (the bus adds 下一位 when the queue moved)
    mentions     members to @mention in a group answer
    card         the queue board as a card, for platforms that render cards
    private      answer in a private chat with the sender
    full_phones  the private answer may show full phones (the sender's own customers)
    file         a local file sent with the answer (/导出, /周报)
    tells        private messages to others, sent with the answer
    undo         an /撤销: the change-log rows it restored (its own audit row is kind "undo")
    """

    text: str
    mentions: tuple[str, ...] = ()
    card: dict | None = None
    private: bool = False
    full_phones: bool = False
    file: str | None = None
    tells: tuple[Tell, ...] = ()
    undo: tuple[Audit, ...] = ()

    @property
    def audit_kind(self) -> AuditKind:
        return AuditKind.UNDO if self.undo else AuditKind.CMD

    def mention(self, *names: str | None) -> Reply:
        return replace(self, mentions=self.mentions + tuple(n for n in names if n))

    def tell(self, *tells: Tell) -> Reply:
        return replace(self, tells=self.tells + tells)
