"""Outbound side of the WeCom adapter: each outbox message becomes frames on the long connection.

The answer to a message quotes its req_id (`aibot_respond_msg`), as one finished `stream` message whose
id comes from the outbox key: a retry (after a reconnect, within the req_id's life) sends the same
req_id and stream id, which WeCom takes as the same message, so it is never shown twice. Everything
else is pushed (`aibot_send_msg`) to the group's chatid or the user's userid; a push has no
idempotency key, so a key already marked sent is skipped. A file is uploaded over the connection
(aibot_upload_media_*) and sent as a file or image message; FILE_FAILED / IMAGE_FAILED when it cannot.
Sends to one chat are paced (bot/adapters/pacing.py). WeCom renders both kinds as markdown: a `*`
(a masked phone 138****5678) is written as the full-width `＊` so that it is not taken for bold.
Names are written, not @mentioned: the intelligent bot's documented messages carry no mention list.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.pacing import Pacer
from bot.adapters.wecom import frames as F
from handlers.messages import BotPort, Incoming, Outgoing
from rules import texts as T
from rules.enums import MessageKind

log = logging.getLogger(__name__)
PLATFORM = "wecom"
REQ_LIFE_S = 280.0                  # a req_id can be answered for 5 minutes (kept a little shorter)
CONNECT_WAIT_S = 30.0               # a send waits this long for a connection before it counts as failed
IMAGES = (".png", ".jpg", ".jpeg")


@dataclass
class _Asked:
    """A callback that can still be answered: its req_id, when, where it came from, what answered it."""

    req_id: str
    at: float
    userid: str
    chatid: str | None
    key: str | None = None


def markdown_safe(text: str) -> str:
    return text.replace("*", "＊")


class Sender:
    def __init__(self, bot: BotPort, client, per_minute: int):
        self.bot, self.client = bot, client
        self.pacer = Pacer(per_minute, 60.0)
        self._asked: dict[str, _Asked] = {}

    def remember(self, msg: Incoming, req_id: str) -> None:
        now = asyncio.get_running_loop().time()
        self._asked = {k: a for k, a in self._asked.items() if now - a.at < REQ_LIFE_S}
        self._asked[msg.event_id] = _Asked(req_id, now, msg.sender_id, msg.chat_id)

    async def refuse(self, cb: F.Callback, text: str) -> None:
        """Answer a callback that is not handled (nothing stored, nothing changed)."""
        try:
            await self.client.request(F.RESPOND, F.text_body(markdown_safe(text), f"refused:{cb.msgid}"), cb.req_id)
        except Exception as e:
            log.warning("WeCom: the refusal of %s was not sent (%s)", cb.msgid, e)

    async def deliver(self, msgs: list[Outgoing], src: Incoming | None) -> set[str]:
        """Send `msgs` (replies to `src`, or pushes when None); the keys that failed."""
        if not msgs:
            return set()
        try:
            await asyncio.wait_for(self.client.connected.wait(), CONNECT_WAIT_S)
        except TimeoutError:
            log.error("WeCom: not connected; %d message(s) are sent again later", len(msgs))
            return {o.key for o in msgs}
        done = await asyncio.to_thread(self.bot.sent, [o.key for o in msgs if o.key])
        failed: set[str] = set()
        for o in msgs:
            if o.key in done:
                log.info("WeCom: message %s was sent already; not sent again", o.key)
                continue
            try:
                await self._one(o, src)
            except Exception as e:
                log.error("WeCom: cannot send message %s (%d characters): %s", o.key, len(o.text), e)
                failed.add(o.key)
        return failed

    async def _one(self, o: Outgoing, src: Incoming | None) -> None:
        targets = await self._targets(o, src)
        asked = await self._answerable(o, targets)
        if o.text or o.card is not None:
            if asked is not None:
                await self._pace(targets[0])
                await self.client.request(F.RESPOND, self._body(o, reply=True), asked.req_id)
                asked.key = o.key
            else:
                for target in targets:
                    await self._push(target, self._body(o, reply=False))
        if o.file and targets:
            await self._send_file(o.file, targets)

    def _body(self, o: Outgoing, reply: bool) -> dict:
        if o.card is not None:
            return F.card_body(o.card, markdown_safe(o.text), o.key)
        text = markdown_safe(o.text)
        return F.text_body(text, o.key) if reply else F.markdown_body(text)

    async def _answerable(self, o: Outgoing, targets: list[str]) -> _Asked | None:
        """The callback `o` answers in the chat it came from (one message per req_id), if still fresh."""
        asked = self._asked.get(o.key.rsplit(":", 1)[0].split("#")[0]) if o.key else None
        if asked is None or asked.key not in (None, o.key) or len(targets) != 1:
            return None
        if asyncio.get_running_loop().time() - asked.at >= REQ_LIFE_S:
            return None
        here = asked.chatid if asked.chatid is not None else asked.userid
        same_kind = (o.to is None) == (asked.chatid is not None)
        return asked if same_kind and targets[0] == here else None

    async def _targets(self, o: Outgoing, src: Incoming | None) -> list[str]:
        """Where `o` goes: a user's userid, or group chatids."""
        if o.to is not None:        # a member's name (or, unresolved, the sender's own userid)
            uid = await asyncio.to_thread(self.bot.user_id, PLATFORM, o.project, o.to) if o.project else None
            uid = uid or (o.to if (src is not None and o.to == src.sender_id) or o.project is None else None)
            if uid is None:
                log.warning("WeCom: no userid for %s in %s; private message %s not sent", o.to, o.project, o.key)
            return [uid] if uid else []
        if src is not None and src.private and o.kind != MessageKind.ANNOUNCE:   # (announced: the group)
            return [src.sender_id]
        chat = (src.chat_id if src is not None else None) or o.chat_id
        if chat:
            return [chat]
        chats = await asyncio.to_thread(self.bot.chats, PLATFORM, o.project) if o.project else []
        if not chats:
            log.warning("WeCom: no group bound to %s; message %s not sent: %.40s", o.project, o.key, o.text)
        return chats

    async def _pace(self, target: str) -> None:
        await asyncio.sleep(self.pacer.reserve(target, asyncio.get_running_loop().time()))

    async def _push(self, target: str, body: dict) -> dict:
        await self._pace(target)
        return await self.client.request(F.SEND, {"chatid": target, **body})

    async def _send_file(self, path: str, targets: list[str]) -> None:
        """Uploaded once, then a file (or image) message to each target; a failure is said instead."""
        kind = "image" if Path(path).suffix.lower() in IMAGES else "file"
        try:
            media_id = await self._upload(path, kind)
        except Exception as e:
            log.error("WeCom: cannot upload %s (%s)", path, e)
            media_id = None
        for target in targets:
            if media_id is not None:
                await self._push(target, F.media_body(kind, media_id))
            else:
                await self._push(target, F.markdown_body(T.IMAGE_FAILED if kind == "image" else T.FILE_FAILED))

    async def _upload(self, path: str, kind: str) -> str:
        data = await asyncio.to_thread(Path(path).read_bytes)
        parts = F.chunks(data)
        init = await self.client.request(F.UPLOAD_INIT, F.upload_init(kind, Path(path).name, data, len(parts)))
        upload_id = (init.get("body") or {})["upload_id"]
        for i, part in enumerate(parts):
            await self.client.request(F.UPLOAD_CHUNK, {"upload_id": upload_id, "chunk_index": i, "base64_data": part})
        done = await self.client.request(F.UPLOAD_FINISH, {"upload_id": upload_id})
        return (done.get("body") or {})["media_id"]
