"""A thin client of the WeCom intelligent bot's long connection, on `websockets` (frames: frames.py).

`run()` keeps one connection open until `stop()`: subscribe, a ping every `heartbeat` seconds, and
a connection that has sent no frame at all (heartbeat answers included) for `dead_after` seconds is
closed and opened again. Reconnects never give up: exponential backoff with jitter, from
`retry_min` up to `retry_max`. `disconnected_event` (another connection of the same bot took over)
is logged once and answered by a long pause (`takeover_pause`, doubling), never by a fight.
`request()` sends a frame and waits for the server's answer under the same req_id.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import websockets

from bot.adapters.wecom import frames as F

log = logging.getLogger(__name__)
DEFAULT_URL = "wss://openws.work.weixin.qq.com"


class RequestFailed(Exception):
    """The server refused a request (errcode ≠ 0), did not answer in time, or there is no connection."""


@dataclass(frozen=True)
class Timing:
    heartbeat: float = 30.0         # a ping every 30 s (the official SDKs' figure)
    dead_after: float = 60.0        # no frame for this long: the connection is dead (issue 20)
    retry_min: float = 1.0
    retry_max: float = 60.0
    answer: float = 10.0            # how long a request waits for the server's answer
    takeover_pause: float = 600.0   # after disconnected_event: wait this long (doubling) before trying again


@dataclass
class Connection:
    ws: object
    waiting: dict[str, asyncio.Future] = field(default_factory=dict)


class WecomClient:
    def __init__(self, url: str, bot_id: str, secret: str, on_frame: Callable[[dict], Awaitable[None]],
                 timing: Timing = Timing(), on_seen: Callable[[], None] = lambda: None):
        self.url, self.bot_id, self._secret = url, bot_id, secret
        self.on_frame, self.on_seen, self.timing = on_frame, on_seen, timing
        self.connected = asyncio.Event()
        self.displaced = 0                      # disconnected_event count (another process took over)
        self._line: Connection | None = None
        self._stopping = asyncio.Event()
        self._seen = 0.0                        # loop time of the last frame

    async def run(self) -> None:
        """Connect, and again after every drop, until `stop()`."""
        delay = self.timing.retry_min
        while not self._stopping.is_set():
            pause = None
            try:
                pause = await self._session()
                delay = self.timing.retry_min if pause is None else delay
            except (OSError, websockets.WebSocketException, RequestFailed, TimeoutError) as e:
                log.warning("WeCom: connection to %s failed (%s: %s); again in %.0f s", self.url,
                            type(e).__name__, e, delay)
            except Exception:           # never give up: a bug in one session is logged, the next one starts
                log.exception("WeCom: the session with %s ended with an error; again in %.0f s", self.url, delay)
            wait = pause if pause is not None else delay * random.uniform(0.5, 1.5)    # jitter
            delay = min(delay * 2, self.timing.retry_max)
            try:
                await asyncio.wait_for(self._stopping.wait(), wait)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopping.set()
        if self._line is not None:
            await self._line.ws.close()

    async def drop(self) -> None:
        """Close the current connection; `run` opens a new one (the watchdog's restart in place)."""
        if self._line is not None:
            await self._line.ws.close()

    async def _session(self) -> float | None:
        """One connection, until it ends; a pause when another connection took over (else None)."""
        async with websockets.connect(self.url, open_timeout=self.timing.answer, ping_interval=None,
                                      max_size=2**24) as ws:
            conn = self._line = Connection(ws)
            self._seen = asyncio.get_running_loop().time()
            reader = asyncio.create_task(self._read(conn))
            try:
                await self._call(conn, F.subscribe(self.bot_id, self._secret))
                log.info("WeCom: connected to %s as bot %s", self.url, self.bot_id)
                self.connected.set()
                return await self._keep(conn, reader)
            finally:
                self.connected.clear()
                self._line = None
                reader.cancel()
                for fut in conn.waiting.values():
                    fut.cancel()

    async def _keep(self, conn: Connection, reader: asyncio.Task) -> float | None:
        """Heartbeats until the reader ends or the line goes quiet for `dead_after` seconds."""
        loop = asyncio.get_running_loop()
        while not reader.done():
            quiet = loop.time() - self._seen
            if quiet >= self.timing.dead_after:
                log.warning("WeCom: no frame for %.0f s; the connection is treated as dead", quiet)
                return None
            await conn.ws.send(F.ping())
            await asyncio.wait({reader}, timeout=min(self.timing.heartbeat, self.timing.dead_after - quiet))
        return reader.result()

    async def _read(self, conn: Connection) -> float | None:
        """Every frame: an answer wakes its request, a callback goes to `on_frame`."""
        loop = asyncio.get_running_loop()
        async for raw in conn.ws:
            self._seen = loop.time()
            self.on_seen()
            f = F.read(raw)
            if f is None:
                log.warning("WeCom: a frame that is not JSON was ignored")
                continue
            if F.is_disconnected(f):
                return self._taken_over()
            rid = (f.get("headers") or {}).get("req_id", "")
            if f.get("cmd") in (F.MSG_CALLBACK, F.EVENT_CALLBACK):
                await self.on_frame(f)
            elif rid in conn.waiting and not conn.waiting[rid].done():
                conn.waiting[rid].set_result(f)
        return None

    def _taken_over(self) -> float:
        self.displaced += 1
        pause = min(self.timing.takeover_pause * 2 ** (self.displaced - 1), 6 * 3600)
        log.error("WeCom: another connection of bot %s took over (disconnected_event); this process does not "
                  "fight back and tries again in %.0f s. Run one `reception-bot run` per bot.", self.bot_id, pause)
        return pause

    async def request(self, cmd: str, body: dict, rid: str | None = None) -> dict:
        """Send `cmd` and wait for the server's answer (RequestFailed: refused, no answer, no connection)."""
        conn = self._line
        if conn is None or not self.connected.is_set():
            raise RequestFailed("not connected")
        return await self._call(conn, F.frame(cmd, rid or F.req_id(cmd), body))

    async def _call(self, conn: Connection, text: str) -> dict:
        rid = F.read(text)["headers"]["req_id"]
        fut = conn.waiting[rid] = asyncio.get_running_loop().create_future()
        try:
            await conn.ws.send(text)
            answer = await asyncio.wait_for(fut, self.timing.answer)
        except (TimeoutError, asyncio.CancelledError, websockets.WebSocketException) as e:
            raise RequestFailed(f"no answer to {rid} ({type(e).__name__})") from None
        finally:
            conn.waiting.pop(rid, None)
        if answer.get("errcode", 0) != 0:
            raise RequestFailed(f"{answer.get('errcode')} {answer.get('errmsg', '')}")
        return answer
