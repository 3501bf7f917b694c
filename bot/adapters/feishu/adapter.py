"""Feishu (Lark) adapter: translates Feishu events into `Incoming` and `Outgoing` into sends.

Transport is the official lark-oapi SDK only: the long connection (`lark.ws.Client`, default)
or an HTTP webhook (bot/adapters/feishu/webhook.py refuses unsigned, stale, huge and stalled requests;
`EventDispatcherHandler` then decrypts and checks the token).
SDK handlers store each event durably (`bot.accept`, its own committed transaction) and queue it
before they return, which is when the SDK acknowledges it: an event the platform was told arrived is
never lost, and one that cannot be stored is refused (Feishu sends it again). After a start, what a
dead process stored but never handled goes first. One worker thread calls `bot.handle` in order;
`FeishuSender` sends, rate-limited
(an `Outgoing.file` is uploaded and sent as a "file" message after the text).
The SDK keeps its long-connection event loop in a module global: one ws adapter per process
(every SDK workaround is in bot/adapters/feishu/sdk_compat.py).
For the watchdog (bot/watchdog.py) it says when the last frame arrived (events and the SDK's pongs),
whether it is connected, and restarts its long connection in place (a new session on the same thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from bot import metrics
from bot.adapters.feishu import sdk_compat, webhook
from bot.adapters.feishu.cards import message_content
from bot.adapters.feishu.sender import FeishuSender, FileSend, Send, feishu_uuid
from bot.clock import Clock
from bot.config import ConfigError
from handlers.messages import BotPort, Incoming, Outgoing
from rules import texts as T
from rules.enums import MessageKind
from storage.db import DatabaseProblem

log = logging.getLogger(__name__)
PLATFORM = "feishu"
BOT_INFO_WAIT_S = 5.0       # at start, how long an event waits for the bot's open_id (then: its name)
DOMAINS = {"feishu": lark.FEISHU_DOMAIN, "lark": lark.LARK_DOMAIN}


@dataclass(frozen=True)
class FeishuSettings:
    app_id: str
    app_secret: str = field(repr=False)
    mode: str = "ws"  # "ws" (long connection) | "webhook"
    domain: str = lark.FEISHU_DOMAIN  # or lark.LARK_DOMAIN, or a test server "http://127.0.0.1:PORT"
    encrypt_key: str = field(default="", repr=False)
    verification_token: str = field(default="", repr=False)
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8000
    webhook_path: str = "/feishu/events"
    bot_name: str = "接待助手"  # its @mention is stripped when the bot's open_id cannot be read
    webhook_timeout: float = 10.0  # seconds a webhook request may stall (each read, and the whole body)

    def __post_init__(self):
        """Webhook mode without both secrets would accept unsigned events from anyone: refuse to start."""
        missing = [env for env, value in (("FEISHU_ENCRYPT_KEY", self.encrypt_key),
                                          ("FEISHU_VERIFICATION_TOKEN", self.verification_token)) if not value]
        if self.mode == "webhook" and missing:
            raise ConfigError(T.FEISHU_WEBHOOK_SECRETS.format(missing="、".join(missing)))

    @classmethod
    def from_env(cls, cfg: dict | None = None, env: Mapping[str, str] | None = None) -> FeishuSettings:
        """Secrets from env only; other keys from `cfg` (config.yaml `feishu:`), env FEISHU_<KEY> wins."""
        cfg, env = dict(cfg or {}), os.environ if env is None else env

        def get(key: str, default):
            value = env.get("FEISHU_" + key.upper())
            return value if value else cfg.get(key, default)

        app_id, secret = env.get("FEISHU_APP_ID", ""), env.get("FEISHU_APP_SECRET", "")
        if not app_id or not secret:
            raise ConfigError(T.FEISHU_APP_SECRETS)
        mode = str(get("mode", "ws")).lower()
        if mode not in ("ws", "webhook"):
            raise ConfigError(T.FEISHU_MODE.format(mode=mode))
        domain = str(get("domain", "feishu"))
        return cls(
            app_id,
            secret,
            mode,
            DOMAINS.get(domain.lower(), domain).rstrip("/"),
            env.get("FEISHU_ENCRYPT_KEY", ""),
            env.get("FEISHU_VERIFICATION_TOKEN", ""),
            str(get("webhook_host", "0.0.0.0")),
            int(_number(get("webhook_port", 8000), "webhook_port", 0, 65535)),
            str(get("webhook_path", "/feishu/events")),
            str(get("bot_name", "接待助手")),
            _number(get("webhook_timeout", 10.0), "webhook_timeout", 0.1, 300),
        )


def _number(value, key: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise ConfigError(T.FEISHU_NUMBER.format(key=key, low=low, high=high, value=value))
    return number


class FeishuAdapter:
    def __init__(self, bot: BotPort, settings: FeishuSettings, clock: Clock):
        self.bot, self.settings = bot, settings
        self.clock = clock              # events are handled at the time they arrive by this clock
        self.client = (
            lark.Client.builder()
            .app_id(settings.app_id)
            .app_secret(settings.app_secret)
            .domain(settings.domain)
            .log_level(lark.LogLevel.WARNING)
            .build()
        )
        self.sender = FeishuSender(self.client)
        self.dispatcher = (
            lark.EventDispatcherHandler.builder(settings.encrypt_key, settings.verification_token)
            .register_p2_im_message_receive_v1(lambda d: self._receive(self._from_message, d))
            .register_p2_card_action_trigger(self._on_card)
            .build()
        )
        self.webhook_address: tuple[str, int] | None = None
        self._events: queue.Queue = queue.Queue()
        self._p2p_chats: set[str] = set()
        self._bot_open_id: str | None = None
        self._bot_open_id_read = threading.Event()
        self._threads: list[threading.Thread] = []
        self._httpd: webhook.WebhookServer | None = None
        self._ws: lark.ws.Client | None = None
        self._ws_loop: asyncio.AbstractEventLoop | None = None
        self._ws_ready = threading.Event()
        self._stopping = threading.Event()
        self._last_frame: float | None = None       # time.monotonic() of the last frame (bot/watchdog.py)
        self.platform = PLATFORM
        self.sender.on_call = lambda: metrics.feishu_call(self.clock.now())

    # ---- lifecycle ----
    def start(self) -> None:
        """Start the sender, the worker and the long connection or webhook server; returns at once."""
        self.sender.start()
        self._spawn(self._read_bot_open_id, "feishu-bot-info")
        for msg in self.bot.pending():      # stored and acknowledged by a process that died before handling them
            self._events.put(("msg", msg))
        self._spawn(self._work, "feishu-worker")
        if self.settings.mode == "webhook":
            self._httpd = webhook.serve(self)
            self.webhook_address = self._httpd.server_address[:2]
            self._spawn(lambda: self._httpd.serve_forever(poll_interval=0.1), "feishu-webhook")
            log.info(
                "feishu: webhook listening on %s:%s%s", *self.webhook_address, self.settings.webhook_path
            )
        else:
            self._spawn(self._run_ws, "feishu-ws")

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._ws_ready.wait(timeout if self.settings.mode == "ws" else 0):
            self._close_ws(timeout)
        self._events.put(None)  # the worker finishes what arrived, then the sender drains
        for t in self._threads:
            t.join(timeout)
        self.sender.stop(timeout)

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _close_ws(self, timeout: float) -> None:
        """End the long connection's `start()` on its thread (stop, or a restart by the watchdog)."""
        if self._ws_loop is None or not self._ws_loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(sdk_compat.stop_ws(self._ws), self._ws_loop).result(timeout)
        except (Exception, concurrent.futures.CancelledError) as e:
            log.warning("feishu: closing the long connection: %r", e)

    # ---- bot/watchdog.py's Watched ----
    def last_frame(self) -> float | None:
        """Webhook mode has no connection to go deaf (Feishu calls us): heard whenever it is serving."""
        if self.settings.mode == "webhook":
            return time.monotonic() if self._httpd is not None else None
        return self._last_frame

    def connected(self) -> bool:
        if self.settings.mode == "webhook":
            return self._httpd is not None
        return self._ws is not None and sdk_compat.is_connected(self._ws)

    def restart(self) -> None:
        """A new long connection in place of a deaf one: the same queues, the same worker and sender."""
        if self.settings.mode == "ws" and self._ws_ready.is_set():
            self._close_ws(10.0)

    def _saw_frame(self) -> None:
        self._last_frame = time.monotonic()

    def _run_ws(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        sdk_compat.use_loop(loop)
        self._ws_loop = loop
        log.info("feishu: SDK features %s", sdk_compat.FEATURES)
        try:
            while not self._stopping.is_set():      # a restart ends one session; the next one begins
                self._ws_session(loop)
        finally:
            loop.close()

    def _ws_session(self, loop: asyncio.AbstractEventLoop) -> None:
        s = self.settings
        self._ws = lark.ws.Client(s.app_id, s.app_secret, event_handler=self.dispatcher, domain=s.domain,
                                  log_level=lark.LogLevel.INFO)
        if not sdk_compat.observe_frames(self._ws, self._saw_frame):
            log.warning("feishu: this SDK hides its frames; the watchdog counts events only")
        sdk_compat.on_reconnected(self._ws, lambda: metrics.RECONNECTS.labels(PLATFORM, "sdk").inc())
        self._ws_ready.set()
        try:
            self._ws.start()
        except asyncio.CancelledError:  # stop() or restart()
            pass
        except Exception:
            log.exception("feishu: long connection ended")
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    # ---- inbound ----
    def _on_card(self, data) -> P2CardActionTriggerResponse:
        self._receive(self._from_card, data)
        return P2CardActionTriggerResponse({"toast": {"type": "info", "content": "已收到"}})

    def _receive(self, translate, data) -> None:
        """On the SDK's thread, before it acknowledges the event: translate it, store it, queue it.
        A failure to store raises, so the SDK answers 500 and Feishu delivers the event again."""
        try:
            msg = translate(data)
        except Exception:
            log.exception("feishu: could not read an event")
            return
        self._saw_frame()                               # (an event is a frame too, whatever the SDK hides)
        if msg is not None and self.bot.accept(msg):    # False: a redelivery of one stored before
            self._events.put(("msg", msg))

    def _work(self) -> None:
        item = self._events.get()
        while item is not None:
            if item[0] == "settled":        # the sender's word, recorded on this thread (one database user)
                item = self._settle_burst(item)
                continue
            self._handle(item[1])
            item = self._events.get()

    def _settle_burst(self, item):
        """The sender's word on every message settled by now, recorded in one transaction per outcome
        (a burst of replies is one mark_sent, not one each); returns the next item, waiting for it."""
        done: dict[bool, list[str]] = {True: [], False: []}
        while True:
            done[item[2]].append(item[1])
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                item = _NOTHING
            if item is None or item is _NOTHING or item[0] != "settled":
                break
        for ok, keys in done.items():
            if keys:
                self._settle_all(keys, ok)
        return self._events.get() if item is _NOTHING else item

    def _handle(self, msg: Incoming) -> None:
        msg = self._named(msg)
        try:
            outs = self.bot.handle(msg)     # every reply is in the outbox: marked sent, or sent again
        except DatabaseProblem as e:  # an outage, not a bug: one line, no traceback
            log.error("feishu: %s not handled: %s", msg.event_id, e)
            outs = [Outgoing(T.APOLOGY, key=f"err:{msg.event_id}")]
        except Exception:
            log.exception("feishu: handling %s failed", msg.event_id)
            outs = [Outgoing(T.APOLOGY, key=f"err:{msg.event_id}")]
        try:
            self._send(outs, msg, None, self._settle)
        except Exception:
            log.exception("feishu: sending the replies to %s failed", msg.event_id)
            self._settle_all([o.key for o in outs], False)

    def _named(self, msg: Incoming) -> Incoming:
        """A 「我是」 carries the sender's Feishu name (the managers' notice names the claimant); events
        do not say it, so it is asked of the contact API (needs the contact read scope; else none)."""
        if msg.sender_name or not msg.text.startswith("我是"):
            return msg
        req = (lark.BaseRequest.builder().http_method(lark.HttpMethod.GET)
               .uri(f"/open-apis/contact/v3/users/{msg.sender_id}?user_id_type=open_id")
               .token_types({lark.AccessTokenType.TENANT}).build())
        try:
            name = json.loads(self.client.request(req).raw.content)["data"]["user"]["name"]
        except Exception as e:
            log.info("feishu: no display name for %s (%s)", msg.sender_id, e)
            return msg
        return replace(msg, sender_name=str(name)[:80] or None)

    def _settle(self, key: str, ok: bool) -> None:
        """The sender's word on one message (from its thread): marked sent, or sent again by the sweep
        (same uuid), recorded by the event worker."""
        self._events.put(("settled", key, ok))

    def _settle_all(self, keys: list[str], ok: bool) -> None:
        try:
            if ok:
                self.bot.mark_sent(keys, self.clock.now())
            else:
                self.bot.send_failed(keys, self.clock.now())
        except Exception:           # unmarked: the sweep sends it again after the lease (same uuid)
            log.exception("feishu: cannot record the outcome of %s", keys)

    def _read_bot_open_id(self) -> None:
        try:
            self._ask_bot_open_id()
        finally:
            self._bot_open_id_read.set()

    def _ask_bot_open_id(self) -> None:
        req = (
            lark.BaseRequest.builder()
            .http_method(lark.HttpMethod.GET)
            .uri("/open-apis/bot/v3/info")
            .token_types({lark.AccessTokenType.TENANT})
            .build()
        )
        try:
            self._bot_open_id = json.loads(self.client.request(req).raw.content)["bot"]["open_id"]
        except Exception as e:
            log.warning("feishu: bot info unavailable (%s); its @mention is recognised by name", e)

    def _from_message(self, data) -> Incoming | None:
        m, sender = data.event.message, data.event.sender
        if m.message_type != "text" or (sender.sender_type or "user") != "user":
            return None
        self._bot_open_id_read.wait(BOT_INFO_WAIT_S)     # to tell the bot's @mention from a colleague's
        text = json.loads(m.content or "{}").get("text", "")
        for mt in sorted(m.mentions or [], key=lambda x: -len(x.key or "")):
            oid = mt.id.open_id if mt.id else None
            is_bot = (oid and oid == self._bot_open_id) or mt.name == self.settings.bot_name
            text = text.replace(mt.key, "" if is_bot else f"@{mt.name}")
        private = m.chat_type == "p2p"
        if private:
            self._p2p_chats.add(m.chat_id)
        return Incoming(
            PLATFORM,
            sender.sender_id.open_id,
            re.sub(r"[ \t]+", " ", text).strip(),
            self.clock.now(),
            chat_id=None if private else m.chat_id,
            private=private,
            event_id=f"feishu:{m.message_id}",
            sent_at=datetime.fromtimestamp(int(m.create_time) / 1000, tz=UTC) if m.create_time else None,
        )

    def _from_card(self, data) -> Incoming | None:
        ev = data.event
        cmd = ((ev.action.value if ev.action else None) or {}).get("cmd")
        if not cmd or not ev.operator or not ev.operator.open_id:
            return None
        chat = ev.context.open_chat_id if ev.context else None
        private = chat in self._p2p_chats
        return Incoming(
            PLATFORM,
            ev.operator.open_id,
            str(cmd),
            self.clock.now(),
            chat_id=None if private else chat,
            private=private,
            event_id=f"feishu:{data.header.event_id}",
        )

    # ---- outbound ----
    def send(self, msgs: list[Outgoing], chat_id: str | None = None) -> None:
        """Queue `msgs` (thread-safe); `to=None` goes to `chat_id`, else to every chat of the project."""
        self._send(msgs, None, chat_id)

    def send_and_wait(self, msgs: list[Outgoing], timeout: float) -> set[str]:
        """Queue `msgs` and wait for the sender: the keys not sent (all unsettled ones on timeout)."""
        results: dict[str, bool] = {}
        keys = {o.key for o in msgs}
        over = threading.Event()

        def settled(key: str, ok: bool) -> None:
            results[key] = ok
            if keys <= results.keys():
                over.set()

        self._send(msgs, None, None, settled)
        if keys:
            over.wait(timeout)
        return {k for k in keys if not results.get(k, False)}

    def _send(self, msgs: list[Outgoing], src: Incoming | None, chat_id: str | None, settle=None) -> None:
        """Queue every platform send of `msgs`; `settle(key, ok)` once all of a message's sends are over."""
        todo = [(o, self._pieces(o, src, chat_id)) for o in msgs]
        track = _Tracker(settle)
        for o, pieces in todo:
            track.expect(o.key, len(pieces))
        for o, pieces in todo:
            for p in pieces:
                self.sender.put(replace(p, done=track.done(o.key)) if settle else p)

    def _pieces(self, o: Outgoing, src: Incoming | None, chat_id: str | None) -> list[Send | FileSend]:
        """The platform sends of one message: a text or card to each receiver, then its file."""
        pieces: list[Send | FileSend] = []
        targets = self._targets(o, src, chat_id)
        ats = [(n, i) for n in o.mentions if (i := self._user(o.project, n))]
        for id_type, rid in targets:
            if o.file and not o.text and o.card is None:
                continue  # a file alone: no empty text message before it
            msg_type, content = message_content(o, ats if id_type == "chat_id" else [])  # @mentions only in groups
            pieces.append(
                Send(
                    id_type,
                    rid,
                    msg_type,
                    json.dumps(content, ensure_ascii=False),
                    feishu_uuid(o.key, rid if len(targets) > 1 else ""),
                )
            )
        if o.file and targets:  # after the text, same receivers; uploaded once by the sender
            pieces.append(FileSend(o.file, tuple(targets), o.key))
        return pieces

    def _user(self, project: str | None, name: str) -> str | None:
        return self.bot.user_id(PLATFORM, project, name) if project else None

    def _targets(self, o: Outgoing, src: Incoming | None, chat_id: str | None) -> list[tuple[str, str]]:
        if o.to is not None:  # a member's name, or the open_id itself when the name is unknown
            oid = self._user(o.project, o.to) or (o.to if o.to.startswith("ou_") else None)
            if oid is None:
                log.warning("feishu: no open_id for %s in %s; private message dropped", o.to, o.project)
            return [("open_id", oid)] if oid else []
        if src is not None and src.private and o.kind != MessageKind.ANNOUNCE:   # (announced: the group)
            return [("open_id", src.sender_id)]
        chat = chat_id or (src.chat_id if src else None) or o.chat_id   # a reply sent again: its chat
        if chat:
            return [("chat_id", chat)]
        chats = self.bot.chats(PLATFORM, o.project) if o.project else []
        if not chats:
            log.warning("feishu: no chat bound to project %s; message dropped: %.40s", o.project, o.text)
        return [("chat_id", c) for c in chats]


_NOTHING = ("nothing",)      # the event queue was empty


class _Tracker:
    """Counts a message's platform sends; tells `settle(key, ok)` when the last is over (ok: all went)."""

    def __init__(self, settle):
        self.settle, self.left, self.bad, self.lock = settle, {}, set(), threading.Lock()

    def expect(self, key: str, n: int) -> None:
        self.left[key] = self.left.get(key, 0) + n
        if n == 0 and self.settle:      # nowhere to send it (logged): nothing will ever change that
            self.settle(key, True)

    def done(self, key: str):
        def one(ok: bool) -> None:
            with self.lock:
                self.left[key] -= 1
                if not ok:
                    self.bad.add(key)
                over = self.left[key] == 0
            if over:
                self.settle(key, key not in self.bad)
        return one
