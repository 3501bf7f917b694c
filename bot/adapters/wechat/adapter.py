"""WeChat adapter: a wechaty puppet-service connection translated to and from `BotPort`.

    adapter = WechatAdapter(bot, WechatSettings.from_env(cfg.get("wechat")))
    await adapter.run()            # connects, reconnects with backoff, returns after `await adapter.stop()`
    adapter.send(msgs)             # from any other thread (scheduler): blocks until delivered

Room → project binding and names are the core's job: a room message becomes
`Incoming(chat_id=room id, project=None)`, a private one `Incoming(private=True)`.
Replies go back where the message came from; an `Outgoing` with no source room goes to every
room in `bot.chats("wechat", project)`, one with `to=NAME` privately to `bot.user_id(...)` (in a
private chat, a `to` that is the sender's id, or a name without project, means the sender).
An `Outgoing.file` (the /导出 workbook) follows its text to each target as a file message; when it
cannot be sent, `FILE_FAILED` is said there instead.
The core runs synchronously on the event loop (one call at a time, same thread as `run()`).
For the watchdog (bot/watchdog.py): a `ding` every 30 s, whose `dong` (like any event) is a frame;
`restart()` ends the session and `run()` opens a new one.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import metrics
from bot.adapters import outcome
from bot.adapters.wechat.compat import close_session, fresh_pools, import_wechaty, wechaty_options
from bot.clock import Clock
from handlers.messages import BotPort, Incoming, Outgoing
from rules import texts as T
from rules.enums import MessageKind

log = logging.getLogger(__name__)
FRAMES = ("login", "ready", "message", "dong", "heartbeat")     # puppet events that prove the stream alive
DING_S = 30.0       # a ding every 30 s: its dong is the heartbeat the watchdog hears (window 120 s)
_SEP = "[\u2005\u0020\u00a0]"


@dataclass(frozen=True)
class WechatSettings:
    endpoint: str  # host:port of a puppet service reachable over plain gRPC (no TLS)
    token: str | None = None  # sent as the HTTP/2 :authority header (how old clients authenticate)
    retry_min: float = 1.0  # reconnect backoff, doubled after each failed session up to retry_max
    retry_max: float = 60.0
    send_timeout: float = 30.0  # send() waits this long for a connection and the delivery

    @classmethod
    def from_env(cls, cfg: dict | None = None) -> WechatSettings:
        """Environment first (WECHATY_PUPPET_SERVICE_ENDPOINT / _TOKEN), then cfg keys endpoint/token/..."""
        cfg = dict(cfg or {})
        endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or cfg.pop("endpoint", None)
        token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or cfg.pop("token", None)
        extra = {k: v for k, v in cfg.items() if k not in ("endpoint", "token")}
        if not endpoint:
            raise ValueError("WeChat: WECHATY_PUPPET_SERVICE_ENDPOINT (host:port, plain gRPC) is not set")
        if unknown := set(extra) - {"retry_min", "retry_max", "send_timeout"}:
            raise ValueError(f"WeChat: unknown settings {sorted(unknown)}")
        return cls(endpoint=endpoint, token=token, **{k: float(v) for k, v in extra.items()})


class WechatAdapter:
    def __init__(self, bot: BotPort, settings: WechatSettings, clock: Clock) -> None:
        self.bot, self.settings = bot, settings
        self.clock = clock              # messages are handled at the time they arrive by this clock
        self._wechaty: Any = None  # the current session's Wechaty, None while disconnected
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None  # the thread running run()
        self._started = threading.Event()  # run() has begun: send() may be called
        self._ready, self._stopping = asyncio.Event(), asyncio.Event()
        self._session_task: asyncio.Task | None = None
        self._inflight: set[asyncio.Future] = set()  # messages being handled, finished before stop()
        self._drained = False                       # stored messages of a dead process handled (first login)
        self._in_order = asyncio.Lock()             # FIFO: messages are handled in the order they arrived
        self.platform = "wechat"
        self._last_frame: float | None = None       # time.monotonic() of the last event, dong or heartbeat
        self._restarting = False
        self.ding_every = DING_S

    async def run(self) -> None:
        """Keep a session open until `stop()`; every failure is logged with its traceback, then retried."""
        self._loop, self._thread = asyncio.get_running_loop(), threading.get_ident()
        self._started.set()
        delay, failures = self.settings.retry_min, 0
        while not self._stopping.is_set():
            self._session_task = asyncio.create_task(self._session())
            try:
                await self._session_task
                log.warning("WeChat: event stream from %s ended; reconnecting", self.settings.endpoint)
                metrics.RECONNECTS.labels("wechat", "stream_ended").inc()
            except asyncio.CancelledError:
                if not (self._stopping.is_set() or self._restarting):
                    raise
                self._restarting = False        # restart(): a new session after the usual short wait
            except Exception as e:  # traceback on the first failure of a streak, one line after that
                failures = 1 if self._ready.is_set() else failures + 1
                log.error("WeChat: session with %s failed (%s: %s); retrying in %.1f s",
                          self.settings.endpoint, type(e).__name__, e, delay, exc_info=failures == 1)
            finally:
                if self._ready.is_set():  # the session had logged in: start the backoff again
                    delay = self.settings.retry_min
                await self._close()
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                delay = min(delay * 2, self.settings.retry_max)
        log.info("WeChat: adapter stopped")

    @property
    def connected(self) -> bool:
        """True while a session is logged in (messages can be sent)."""
        return self._ready.is_set()

    async def stop(self, grace: float = 5.0) -> None:
        """Let messages in hand finish (up to `grace` s), then close the connection; `run()` returns.
        Call it on the adapter's loop (another thread: `asyncio.run_coroutine_threadsafe`)."""
        self._stopping.set()
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=grace)
        if self._session_task is not None:
            self._session_task.cancel()

    # ---- bot/watchdog.py's Watched ----
    def last_frame(self) -> float | None:
        return self._last_frame

    def restart(self) -> None:
        """From any thread: end the session (deaf) and open a new one; the same adapter and queues."""
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._restart_now)

    def _restart_now(self) -> None:
        if self._session_task is not None and not self._session_task.done():
            self._restarting = True
            self._session_task.cancel()

    def _saw_frame(self, *_: Any) -> None:
        self._last_frame = time.monotonic()

    async def _ding(self, w: Any) -> None:
        """Ask for a dong every `ding_every` s: a puppet service that answers nothing for the watchdog's window is deaf."""
        while True:
            try:
                await w.puppet.ding("watchdog")
            except Exception as e:
                log.info("WeChat: ding failed: %s", e)
            await asyncio.sleep(self.ding_every)

    def stop_from_thread(self, timeout: float = 10.0) -> None:
        """`stop()` for a caller on another thread (the runner shutting down)."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(timeout)

    def send(self, msgs: list[Outgoing], room_id: str | None = None) -> set[str]:
        """Thread-safe: deliver `msgs` (to `room_id`, else by `Outgoing.to`/project); the keys not sent
        (raises when WeChat is not reachable at all)."""
        if not self._started.wait(self.settings.send_timeout) or threading.get_ident() == self._thread:
            raise RuntimeError("WechatAdapter.send() is for other threads while run() is running")
        fut = asyncio.run_coroutine_threadsafe(self._deliver(msgs, room_id, None), self._loop)
        try:
            return fut.result(timeout=2 * self.settings.send_timeout)
        finally:
            fut.cancel()  # no-op once done

    # -- transport -------------------------------------------------------------------------

    async def _session(self) -> None:
        wechaty, _ = import_wechaty()
        w = wechaty.Wechaty(wechaty_options(self.settings.token, self.settings.endpoint))
        await w.init_puppet()
        fresh_pools(w)
        await w.init_puppet_event_bridge(w.puppet)
        w.on("login", self._on_login)
        w.on("logout", lambda contact: (log.warning("WeChat: %s logged out", contact), self._ready.clear()))
        w.on("error", lambda payload: log.error("WeChat: puppet error %s", payload))
        w.on("message", self._on_message)
        for event in FRAMES:
            w.puppet.on(event, self._saw_frame)
        self._wechaty = w
        log.info("WeChat: connecting to %s", self.settings.endpoint)
        ding = asyncio.ensure_future(self._ding(w))
        try:
            await w.puppet.start()  # Stop+Start RPCs, then reads the event stream until it ends
        finally:
            ding.cancel()

    def _on_login(self, contact: Any) -> None:
        log.info("WeChat: logged in as %s", contact)
        self._ready.set()
        if not self._drained:
            self._drained = True
            self._track(asyncio.ensure_future(self._drain()))

    def _track(self, task: asyncio.Future) -> None:
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _close(self) -> None:
        w, self._wechaty = self._wechaty, None
        self._ready.clear()
        if w is None:
            return
        close_session(w)

    async def _on_message(self, msg: Any) -> None:
        task = asyncio.current_task()
        self._inflight.add(task)
        try:
            async with self._in_order:      # one message at a time, in arrival order (handled on a thread)
                await self._handle(msg)
        finally:
            self._inflight.discard(task)

    async def _handle(self, msg: Any) -> None:
        try:
            talker, room = msg.talker(), msg.room()
            if msg.type() != msg.Type.MESSAGE_TYPE_TEXT or talker.contact_id == msg.puppet.login_user_id:
                return log.debug("WeChat: ignored message %s (type %s)", msg.message_id, msg.type())
            ts = msg.payload.timestamp  # seconds or milliseconds, as the SDK's timestamp_to_date guesses
            sent = datetime.fromtimestamp(ts / 1000 if ts > 2145888000 else ts, UTC) if ts else None
            incoming = Incoming(
                platform="wechat", sender_id=talker.contact_id, text=await self._text(msg, room),
                at=self.clock.now(), chat_id=room.room_id if room else None, private=room is None,
                sender_name=talker.name or None, event_id=f"wechat:{msg.message_id}", sent_at=sent)
        except Exception:
            return log.exception("WeChat: cannot read message %s", getattr(msg, "message_id", "?"))
        if await asyncio.to_thread(self.bot.accept, incoming):     # stored first; False: seen before
            await self._process(incoming)

    async def _drain(self) -> None:
        """After the first login: what a process that died had stored but never handled (before new ones)."""
        async with self._in_order:
            for incoming in await asyncio.to_thread(self.bot.pending):
                await self._process(incoming)

    async def _process(self, incoming: Incoming) -> None:
        """Handle a stored message (on a worker thread: the database may keep it waiting), then answer."""
        try:
            replies = await asyncio.to_thread(self.bot.handle, incoming)    # in the outbox: marked sent, or sent again
        except Exception:
            log.exception("WeChat: handler failed for %s", incoming.event_id)
            replies = [Outgoing(text=T.APOLOGY)]
        try:
            failed = await self._deliver(replies, incoming.chat_id, incoming.sender_id if incoming.private else None)
        except Exception as e:
            log.error("WeChat: cannot deliver the replies to %s (%s); they are sent again later",
                      incoming.event_id, e)
            failed = {o.key for o in replies}
        await asyncio.to_thread(self._settle, replies, failed)

    def _settle(self, msgs: list[Outgoing], failed: set[str]) -> None:
        """Mark what went out sent; what did not is sent again by the sweep (same key)."""
        outcome.record(self.bot, self.clock, msgs, failed, "WeChat")

    async def _text(self, msg: Any, room: Any) -> str:
        """Mentions as "@名字 " (the contact's name, not the room alias); the bot's own mention removed."""
        text = raw = msg.text()
        try:
            self_id = msg.wechaty.puppet.self_id() if room and await msg.mention_self() else None
            for contact in await msg.mention_list() if room else []:
                names = {contact.name, await room.alias(contact)} - {None, ""}
                new = "" if contact.contact_id == self_id else f"@{contact.name} "
                for name in sorted(names, key=len, reverse=True):
                    text = re.sub(f"@{re.escape(name)}(?:{_SEP}+|$)", lambda _m, n=new: n, text)
        except Exception as e:  # an unresolvable mention must not cost the message
            log.warning("WeChat: mentions of %s left as written (%s)", msg.message_id, e)
            text = raw
        return re.sub(r"\s+", " ", text.replace("\u2005", " ")).strip()

    async def _deliver(self, msgs: list[Outgoing], room_id: str | None, contact_id: str | None) -> set[str]:
        """Send `msgs`, skipping keys already marked sent (WeChat has no idempotency key of its own);
        the keys that failed. One failed message does not hold back the others."""
        await asyncio.wait_for(self._ready.wait(), self.settings.send_timeout)
        w, failed = self._wechaty, set()
        done = await asyncio.to_thread(self.bot.sent, [o.key for o in msgs if o.key])
        for out in msgs:
            if out.key in done:
                log.info("WeChat: message %s was sent already; not sent again", out.key)
                continue
            try:
                await self._deliver_one(w, out, room_id or out.chat_id, contact_id)
            except Exception as e:
                log.error("WeChat: cannot send message %s (%d characters): %s", out.key, len(out.text), e)
                failed.add(out.key)
        return failed

    async def _deliver_one(self, w: Any, out: Outgoing, room_id: str | None, contact_id: str | None) -> None:
        def uid(name: str) -> str | None:
            return self.bot.user_id("wechat", out.project, name) if out.project else None

        targets: list[tuple[Any, dict]] = []  # (Contact or Room, extra say() arguments for the text)
        if out.to is not None:  # a member's name; in a private chat also the sender's id or unresolved name
            to = uid(out.to) or (contact_id if out.to == contact_id or out.project is None else None)
            if to is None:
                return log.warning("WeChat: no id for %r in %r; message %s not sent", out.to, out.project, out.key)
            targets.append((w.Contact.load(to), {}))
        elif room_id is None and contact_id is not None and out.kind != MessageKind.ANNOUNCE:  # the private chat
            targets.append((w.Contact.load(contact_id), {}))
        else:
            rooms = [room_id] if room_id else self.bot.chats("wechat", out.project) if out.project else []
            if not rooms:
                log.warning("WeChat: no room bound to %r; message %s not sent", out.project, out.key)
            ids = [i for i in map(uid, out.mentions) if i] or None
            targets += [(w.Room.load(rid), {"mention_ids": ids}) for rid in rooms]
        for target, extra in targets:
            await target.say(out.text, **extra)
            if out.file:
                await self._send_file(target, out.file)

    async def _send_file(self, target: Any, path: str) -> None:
        """Send the file at `path` after its text; on failure log it and say FILE_FAILED instead."""
        try:
            _, puppet = import_wechaty()
            await target.say(puppet.FileBox.from_file(path))  # base64 in a JSON filebox: MessageSendFile
        except Exception:
            where = getattr(target, "room_id", None) or getattr(target, "contact_id", "?")
            log.exception("WeChat: cannot send the file %s to %s", os.path.basename(path), where)
            await target.say(T.IMAGE_FAILED if path.lower().endswith((".png", ".jpg", ".jpeg")) else T.FILE_FAILED)

