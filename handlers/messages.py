"""The two messages that cross the edge: what a platform delivers and what the bot sends.

Adapters (console, Feishu, WeChat) only translate platform events into `Incoming`
and `Outgoing` back into platform calls; everything else happens behind `BotPort`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from rules.enums import MessageKind
from rules.normalize import clean


@dataclass(frozen=True)
class Incoming:
    """One chat message for the bot.

    platform  "console" | "feishu" | "wechat"
    sender_id the platform's user id (Feishu open_id, WeChat contact id; the name on the console)
    text      the message text with @mentions written as "@显示名" (adapters resolve placeholders)
    at        aware datetime when the bot received it (the server's clock: the time it is handled at)
    chat_id   the group chat id (Feishu chat_id, WeChat room id); None for a private chat
    private   True for a private (p2p) chat with the bot
    sender_name the platform's display name when known (used only to suggest a name)
    event_id  platform-unique id of this delivery, for exactly-once handling ("feishu:<event_id>")
    project   project name when the adapter already knows it (console, replay); else bound by chat_id
    sent_at   the platform's own time for the event, when it gives one: used only to drop events
              older than the redelivery retention (never trusted as the time of the command)
    """

    platform: str
    sender_id: str
    text: str
    at: datetime
    chat_id: str | None = None
    private: bool = False
    sender_name: str | None = None
    event_id: str | None = None
    project: str | None = None
    sent_at: datetime | None = None

    def __post_init__(self) -> None:
        """The input boundary (issue 11 item 6), once for every adapter: no NUL, control characters
        or lone surrogates reach the parser, the database or the logs."""
        for f in ("sender_id", "text", "chat_id", "sender_name", "event_id", "project"):
            value = getattr(self, f)
            if isinstance(value, str):
                object.__setattr__(self, f, clean(value))

    def to_json(self) -> str:
        """The message as stored before its platform is told it arrived (Incoming.from_json reads it)."""
        d = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Incoming:
        d = json.loads(text)
        for k in ("at", "sent_at"):
            d[k] = datetime.fromisoformat(d[k]) if d.get(k) else None
        return cls(**d)


@dataclass(frozen=True)
class Outgoing:
    """One message from the bot.

    to        None → the project's group chat; a member's display name → a private message to them
    mentions  member names to @mention (a group message ends with "下一位:NAME" → NAME is mentioned)
    key       idempotency key, stable for the same work item (Feishu `uuid`), unique per message
    project   the project the message belongs to
    card      optional structured payload (the queue board) for platforms that render cards
    at        for scheduled messages, the time the work fell due
    file      path of a file that goes with the text (platforms upload it; the console prints the path)
    chat_id   for a reply in a group: the chat it answers (None: the project's chats, or `to`)
    platform  for a reply: the platform it goes back through (None: every adapter)
    kind      what it is (a reply, the day's greeting, a reminder …): a day's announcements go stale
    """

    text: str
    to: str | None = None
    mentions: tuple[str, ...] = ()
    key: str = ""
    project: str | None = None
    card: dict | None = field(default=None, compare=False)
    at: datetime | None = None        # when a scheduled message fell due (None: now)
    file: str | None = None           # a file to send with the text (the /导出 workbook), a local path
    chat_id: str | None = field(default=None, compare=False)
    platform: str | None = field(default=None, compare=False)
    kind: MessageKind = field(default=MessageKind.REPLY, compare=False)


class BotPort(Protocol):
    """What an adapter may call on the bot core."""

    def handle(self, msg: Incoming) -> list[Outgoing]:
        """Handle one message (at most once per event_id); return the messages to send."""

    def accept(self, msg: Incoming) -> bool:
        """Store a platform delivery before the platform is told it arrived; False: stored before
        (a redelivery: not to be handled again). Raises when it cannot be stored (do not acknowledge)."""

    def pending(self) -> list[Incoming]:
        """Deliveries stored but never handled (a process died): handle them first after a start."""

    def run_due(self, now: datetime) -> list[Outgoing]:
        """Run every scheduled job due by `now`; return the messages to send (each exactly once)."""

    def mark_sent(self, keys: list[str], now: datetime) -> None:
        """These messages (every one `handle`/`run_due` returns is in the outbox) went out."""

    def send_failed(self, keys: list[str], now: datetime) -> None:
        """Sending these failed: they are sent again later under the same keys (bot/outbox.py)."""

    def sent(self, keys: list[str]) -> set[str]:
        """The keys among these already marked sent (not to be sent again)."""

    def user_id(self, platform: str, project: str, name: str) -> str | None:
        """The platform user id of member `name` of `project` (for private messages and @mentions)."""

    def chats(self, platform: str, project: str) -> list[str]:
        """The platform group chat ids bound to `project`."""
