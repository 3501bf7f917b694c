"""WeCom adapter: the intelligent bot's long connection translated to and from `BotPort`.

    adapter = WecomAdapter(app, WecomSettings.read(cfg.wecom, os.environ), app.clock, Holder(engine, bot_id))
    adapter.start()                 # its own thread and event loop; returns at once
    adapter.send(msgs)              # from another thread (the sweep): the keys not sent
    adapter.last_frame_at           # when the last frame (a heartbeat answer too) arrived, by app.clock

Only the process holding the bot (holder.py) connects; another waits and says why in one line.
A callback is stored (`bot.accept`) before anything else, so a redelivered one is handled once; one
worker handles them in order on a thread (the core is synchronous) and hands the replies to the
sender (sender.py). A group command arrives as an @mention of the bot, stripped here; a template-card
click is the button's command said by the user who clicked. At most `max_in_flight` messages of one
user are in hand; another is refused with WECOM_BUSY and changes nothing.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import re
import threading
import time
from datetime import datetime

from bot.adapters import outcome
from bot.adapters.wecom import frames as F
from bot.adapters.wecom.client import WecomClient
from bot.adapters.wecom.holder import Holder
from bot.adapters.wecom.sender import Sender
from bot.adapters.wecom.settings import WecomSettings
from bot.clock import Clock
from handlers.messages import BotPort, Incoming, Outgoing
from rules import texts as T

log = logging.getLogger(__name__)
PLATFORM = "wecom"
HOLD_RETRY_S = 5.0                  # a waiting process asks for the bot again this often
SEND_TIMEOUT_S = 120.0              # a send from another thread waits this long (pacing included)


class WecomAdapter:
    def __init__(self, bot: BotPort, settings: WecomSettings, clock: Clock, holder: Holder):
        self.bot, self.settings, self.clock, self.holder = bot, settings, clock, holder
        self.last_frame_at: datetime | None = None      # read by a watchdog (issue 21)
        self.platform = PLATFORM                          # bot/watchdog.py Watched
        self._last_mono: float | None = None
        self.client = WecomClient(settings.url, settings.bot_id, settings.secret, self._on_frame,
                                  settings.timing, on_seen=self._seen)
        self.sender = Sender(bot, self.client, settings.per_chat_per_minute)
        self.holding = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._queue: asyncio.Queue | None = None
        self._in_hand: collections.Counter = collections.Counter()      # userid → messages in hand

    # ---- lifecycle ----
    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="wecom", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    async def _stop(self) -> None:
        self._stopping.set()
        self._queue.put_nowait(None)
        await self.client.stop()

    @property
    def connected(self) -> bool:
        return self.client.connected.is_set()

    async def _main(self) -> None:
        self._loop, self._stopping, self._queue = asyncio.get_running_loop(), asyncio.Event(), asyncio.Queue()
        self._ready.set()
        try:
            if not await self._hold():
                return
            for msg in await asyncio.to_thread(self.bot.pending):   # stored by a process that died
                self._queue.put_nowait(msg)
            worker = asyncio.create_task(self._work())
            await self.client.run()
            await worker
        finally:
            await asyncio.to_thread(self.holder.release)
            log.info("WeCom: adapter stopped")

    async def _hold(self) -> bool:
        """Wait until this process holds the bot (False: stopped first); one log line while it waits."""
        said = False
        while not self._stopping.is_set():
            if await asyncio.to_thread(self.holder.take):
                self.holding = True
                return True
            if not said:
                log.warning("WeCom: bot %s is held by another process (%s); this one waits for it",
                            self.settings.bot_id, self.holder.where)
                said = True
            try:
                await asyncio.wait_for(self._stopping.wait(), HOLD_RETRY_S)
            except TimeoutError:
                pass
        return False

    def _seen(self) -> None:
        self.last_frame_at = self.clock.now()
        self._last_mono = time.monotonic()

    # ---- the watchdog's view (bot/watchdog.py Watched) ----
    def last_frame(self) -> float | None:
        """time.monotonic() of the last frame (a heartbeat answer too)."""
        return self._last_mono

    def restart(self) -> None:
        """Drop the connection; the client connects again at once (same adapter, same queues)."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.client.drop(), self._loop)

    # ---- inbound ----
    async def _on_frame(self, f: dict) -> None:
        cb = F.callback(f)
        if cb is None:
            return
        if self._in_hand[cb.userid] >= self.settings.max_in_flight:
            log.warning("WeCom: %s has %d messages in hand; %s refused", cb.userid, self._in_hand[cb.userid], cb.msgid)
            await self.sender.refuse(cb, T.WECOM_BUSY.format(n=self._in_hand[cb.userid]))
            return
        msg = Incoming(PLATFORM, cb.userid, self._text(cb), self.clock.now(), chat_id=cb.chatid,
                       private=cb.chatid is None, event_id=f"{PLATFORM}:{cb.msgid}")
        if not await asyncio.to_thread(self.bot.accept, msg):      # False: a redelivery, handled before
            log.info("WeCom: %s delivered again; not handled twice", msg.event_id)
            return
        self.sender.remember(msg, cb.req_id)
        self._in_hand[cb.userid] += 1
        self._queue.put_nowait(msg)

    def _text(self, cb: F.Callback) -> str:
        """The text without the bot's leading @mention (WeCom writes it as "@机器人名 …")."""
        text = cb.text.strip()
        name = self.settings.bot_name
        if not cb.card_click and text.startswith(f"@{name}"):
            text = text[len(name) + 1:]
        return re.sub(r"[ \t\u2005\u00a0]+", " ", text).strip()

    async def _work(self) -> None:
        while (msg := await self._queue.get()) is not None:
            try:
                outs = await asyncio.to_thread(self.bot.handle, msg)  # in the outbox: marked sent, or sent again
            except Exception:
                log.exception("WeCom: handling %s failed", msg.event_id)
                outs = [Outgoing(T.APOLOGY, key=f"err:{msg.event_id}", platform=PLATFORM)]
            finally:
                self._in_hand[msg.sender_id] -= 1
            failed = await self.sender.deliver(outs, msg)
            await asyncio.to_thread(self._settle, outs, failed)

    def _settle(self, msgs: list[Outgoing], failed: set[str]) -> None:
        """Mark what went out sent; what did not is sent again by the sweep (same key)."""
        outcome.record(self.bot, self.clock, msgs, failed, "WeCom")

    # ---- outbound, from other threads ----
    def send(self, msgs: list[Outgoing]) -> set[str]:
        """Deliver `msgs` (the sweep's: pushes, reminders, retries); the keys not sent."""
        if self._loop is None or not self._loop.is_running():
            return {o.key for o in msgs}
        fut = asyncio.run_coroutine_threadsafe(self.sender.deliver(msgs, None), self._loop)
        try:
            return fut.result(SEND_TIMEOUT_S)
        except Exception as e:
            fut.cancel()
            log.error("WeCom: %d message(s) not sent (%s); they are sent again later", len(msgs), e)
            return {o.key for o in msgs}
