"""One outbox for every outgoing message (RULES §7: each is sent exactly once).

Replies, scheduled messages, cards and files are written in the transaction that made them, under a
unique key. The adapter that sends a message marks it sent (`mark_sent`) or failed (`send_failed`).
A message not marked sent by its `retry_at` (the sender crashed between send and mark, or the send
failed) is claimed again by the sweep and sent again under the same key: Feishu drops a repeated
`uuid`, and the adapters skip a key already marked sent. After MAX_ATTEMPTS sends the message is
given up and each manager of the project is told in one private line (itself an outbox message)."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.privacy import mask_phones
from handlers.messages import Incoming, Outgoing
from rules import texts as T
from rules.enums import STALE_AFTER_ITS_DAY, MessageKind
from rules.schedule import past_its_day
from storage import models as m
from storage.uow import UnitOfWork, Units

log = logging.getLogger("reception")
LEASE = timedelta(minutes=5)        # a claimed message unsent after this is sent again (same key)
MAX_ATTEMPTS = 6                    # sends of one message before the managers are told
NOTICE = ":undelivered"             # the managers' notice about a given-up message (never itself reported)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed send: 30 s, 1, 2, 4, 8 … minutes, at most 30."""
    return min(timedelta(seconds=30) * 2 ** max(attempts - 1, 0), timedelta(minutes=30))


class Stored(list):
    """Outgoing messages already written to the outbox (in the transaction that made them)."""


class Outbox:
    def __init__(self, uows: Units, worker: str, zones: dict[str, tzinfo]):
        self.uows, self.worker, self.zones = uows, worker, zones     # zones: project name → its time zone

    def claim(self, uow: UnitOfWork, o: Outgoing, project_id: int | None, now: datetime) -> bool:
        """In the caller's transaction: write `o` under its key, claimed for sending by this process;
        False when the key is taken (some process wrote this message already)."""
        return uow.outbox.add(self._row(o, project_id, now))

    def claim_many(self, uow: UnitOfWork, msgs: list[Outgoing], project_id: int | None, now: datetime
                   ) -> list[Outgoing]:
        """`claim` for many messages in one statement (a scheduled step's): those written, in order; a
        message whose key is taken (written already, by this process or another) is left out."""
        if not msgs:
            return []
        written = uow.outbox.add_many([self._row(o, project_id, now) for o in msgs])
        out = []
        for o in msgs:                  # the first of two messages under one key is the one written
            if o.key in written:
                written.discard(o.key)
                out.append(o)
        return out

    def _row(self, o: Outgoing, project_id: int | None, now: datetime) -> dict:
        due = o.at or now
        return dict(
            key=o.key, project_id=project_id, to=o.to, text=o.text, mentions=list(o.mentions),
            due_at=due, created_at=now, claimed_at=now, claimed_by=self.worker, platform=o.platform,
            chat_id=o.chat_id, card=o.card, file=o.file, attempts=1, retry_at=now + LEASE,
            kind=str(o.kind), day=self._day(o.project, due))

    def _day(self, project: str | None, t: datetime) -> date:
        """The project's local date of `t` (UTC for a message that belongs to no project)."""
        return t.astimezone(self.zones.get(project, UTC) if project else UTC).date()

    def drop_stale(self, uow: UnitOfWork, project: str, project_id: int, now: datetime) -> dict[str, int]:
        """In the caller's transaction: a day's announcements left unsent (a killed process) are dropped
        once that day is over, never sent late; {kind: how many} for the catch-up line."""
        return uow.outbox.drop_stale(project_id, STALE_AFTER_ITS_DAY, self._day(project, now), now)

    def write(self, uow: UnitOfWork, msgs: list[Outgoing], now: datetime, numbered: bool) -> Stored:
        """Write replies in the caller's transaction, all in one statement. A taken key is a repeat delivery
        of the same message (dropped) unless `numbered` (a new message for sure: a command whose delivery
        was claimed, or the console, which has no delivery ids): then the key is numbered, "…#2:ok",
        "…#3:ok" (the tag stays last), one statement per try."""
        ids = {n: uow.projects.id_of(n)
               for n in {o.project for o in msgs if o.project}}
        firsts = [replace(o, key=_fit(o.key)) for o in msgs]
        written = uow.outbox.add_many([self._row(k, ids.get(k.project), now) for k in firsts])
        out = Stored()
        for o, k in zip(msgs, firsts, strict=True):
            if k.key in written:                # (of two messages under one key, the first is the one written)
                written.discard(k.key)
                out.append(k)
                continue
            for n in range(2, 1000 if numbered else 2):
                k = replace(o, key=_fit(_numbered(o.key, n)))
                if self.claim(uow, k, ids.get(o.project), now):
                    out.append(k)
                    break
        return out

    def store(self, msgs: list[Outgoing], now: datetime, numbered: bool) -> Stored:
        """`write` in a transaction of its own (replies of commands that change nothing)."""
        with self.uows() as uow:
            out = self.write(uow, msgs, now, numbered)
            uow.commit()
        return out

    def reclaim(self, now: datetime, limit: int = 200) -> list[Outgoing]:
        """Claim the messages whose retry time has come and return them for sending (same keys);
        a message already sent MAX_ATTEMPTS times is given up instead and its managers are told."""
        out: list[Outgoing] = []
        with self.uows() as uow:
            for row, pname in uow.outbox.due_again(now, LEASE, limit):
                if self._stale(row, pname, now):
                    if uow.outbox.drop(row, now):
                        log.info("outbox: %s (%s of %s) not sent: its day is over", row.key, row.kind, row.day)
                elif row.attempts >= MAX_ATTEMPTS:
                    out += self._give_up(uow, row, pname, now)
                elif uow.outbox.take(row, now, self.worker, now + LEASE):
                    out.append(_outgoing(row, pname))
            uow.commit()
        return out

    def _stale(self, row: m.Outbox, pname: str | None, now: datetime) -> bool:
        return bool(row.kind) and row.day is not None and past_its_day(row.kind, row.day, self._day(pname, now))

    def _give_up(self, uow: UnitOfWork, row: m.Outbox, pname: str | None, now: datetime) -> list[Outgoing]:
        if not uow.outbox.give_up(row, now):
            return []
        log.error("outbox: message %s not sent after %d attempts; given up", row.key, row.attempts)
        if pname is None or NOTICE in row.key:
            return []
        where = T.UNDELIVERED_GROUP if row.to is None else T.UNDELIVERED_PRIVATE.format(to=row.to)
        text = T.UNDELIVERED.format(n=row.attempts, where=where, text=mask_phones(_short(row.text)))
        managers = uow.members.manager_names(row.project_id, by_position=True)
        notices = [Outgoing(text, to=name, key=f"{row.key}{NOTICE}:{name}", project=pname, at=now,
                            kind=MessageKind.NOTICE) for name in managers]
        return [o for o in notices if self.claim(uow, o, row.project_id, now)]

    def mark_sent(self, keys: list[str] | None, now: datetime) -> None:
        """Mark these messages sent (None: everything unsent, after `replay` printed it all)."""
        if keys == []:
            return
        with self.uows() as uow:
            uow.outbox.mark_sent(keys, now)
            uow.commit()

    def send_failed(self, keys: list[str], now: datetime) -> None:
        """These sends failed: try again after the backoff for their attempts so far (the sweep does)."""
        if not keys:
            return
        with self.uows() as uow:
            for row in uow.outbox.unsent(keys):
                row.retry_at = now + backoff(row.attempts)
            uow.commit()

    def sent(self, keys: list[str]) -> set[str]:
        """Which of these keys are marked sent already (an adapter does not send them again)."""
        if not keys:
            return set()
        with self.uows(readonly=True) as uow:
            return uow.outbox.sent_keys(keys)


def _outgoing(row: m.Outbox, pname: str | None) -> Outgoing:
    return Outgoing(row.text, row.to, tuple(row.mentions or ()), row.key, pname, card=row.card, at=row.due_at,
                    file=row.file, chat_id=row.chat_id, platform=row.platform,
                    kind=MessageKind(row.kind) if row.kind else MessageKind.REPLY)


def _fit(key: str, room: int = 200) -> str:
    """A key that fits its column: a long one (a long console name in it) keeps its start and a hash."""
    if len(key) <= room:
        return key
    return f"{key[:room - 42]}~{hashlib.sha1(key.encode()).hexdigest()}"


def _numbered(key: str, n: int) -> str:
    base, sep, tag = key.rpartition(":")
    return f"{base}#{n}{sep}{tag}" if sep else f"{key}#{n}"


def _short(text: str, n: int = 40) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= n and "\n" not in text else line[:n] + "…"


def reply_key(msg: Incoming, tag: str) -> str:
    """The outbox key of an answer to `msg` (its event id, or the console sender and second), `tag` last."""
    base = msg.event_id or f"{msg.platform}:{msg.sender_id}:{msg.at.timestamp():.0f}"
    return f"{base}:{tag}"
