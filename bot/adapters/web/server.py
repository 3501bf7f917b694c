"""HTTP routes of the board and report pages.

/board/{token}          the TV page (static shell; board.js renders the state); the board's token (/看板)
/board/{token}/events   Server-Sent Events: the board state whenever it changes (any process), a
                        `tick` every TICK seconds (the page knows it is current), and `gone` when
                        the token was reset (the page blanks at once)
/board/{token}/state    the same state as JSON, once
/report/{token}         per-salesperson figures for ?from=YYYY-MM-DD&to=YYYY-MM-DD, charts as inline SVG;
                        the report's own token (/报表): the board's link shows no sales figures
Anything else, and any unknown token, is a bare 404 that names nothing.

Every answer carries SECURITY_HEADERS (a CSP that allows only this site's own script, style and
fetches: the pages have no inline script or style), and /state and /events `Cache-Control: no-store`.
Open event streams are capped per board and overall (config.yaml web: max_streams_per_board,
max_streams); over a cap the stream is refused with 503 and Retry-After, and board.js falls back to
polling /state.

The state lives in the database, so changes made by another bot process show as well. The process
has one change signal (storage/changes.py: LISTEN/NOTIFY on PostgreSQL, PRAGMA data_version and this
process's own commits on SQLite); open streams wait on it, not on a timer. On a signal the hub
compares the project's cheap signature (last change-log id + hash of the day's state) once for all
its screens and rebuilds the board only when it moved; without one it checks again after FALLBACK
seconds, and at every new minute (the phase of the day and the times on the board move with the clock).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.adapters.web import pages
from handlers.board_view import board_state
from storage import boards, changes
from storage.uow import UnitOfWork

FALLBACK = 5.0        # seconds: a project's signature is checked this often without a signal (one lost)
TICK = 3.0            # "still current" event: the page dims the board when none came for 10 s
STATIC = Path(__file__).parent / "static"
ASSETS = {"board.js": "text/javascript", "board.css": "text/css", "report.css": "text/css"}
MAX_STREAMS, MAX_STREAMS_PER_BOARD = 200, 20     # open event streams (config.yaml web:)
RETRY_AFTER = 30      # seconds, on a refused stream
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [(k.encode(), v.encode()) for k, v in (
    ("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"))]
log = logging.getLogger(__name__)


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every response (pages, state, events, assets, 404s)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k.lower() not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StreamCaps:
    """Open event streams: at most `total`, and `per_board` for one board. Used on the server's one
    event loop only (no lock)."""

    def __init__(self, total: int = MAX_STREAMS, per_board: int = MAX_STREAMS_PER_BOARD):
        self.total, self.per_board = total, per_board
        self.open: dict[int, int] = {}
        self._warned = -RETRY_AFTER

    def take(self, pid: int) -> bool:
        if sum(self.open.values()) >= self.total or self.open.get(pid, 0) >= self.per_board:
            if time.monotonic() - self._warned >= RETRY_AFTER:       # one line now and then, not per refusal
                self._warned = time.monotonic()
                log.warning("web: event stream refused: %d open (caps: %d per board, %d in all)",
                            sum(self.open.values()), self.per_board, self.total)
            return False
        self.open[pid] = self.open.get(pid, 0) + 1
        return True

    def give(self, pid: int) -> None:
        self.open[pid] -= 1
        if not self.open[pid]:
            del self.open[pid]


class _Stream(StreamingResponse):
    """An event stream that gives its slot back however it ends (done, client gone, cancelled)."""

    def __init__(self, content, release: Callable[[], None]):
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


class Board(NamedTuple):
    """A project's board as the hub last read it: `data` is the state as JSON, written once for every screen."""
    sig: str
    state: dict
    token: str | None
    data: str


class _Stopping(threading.Event):
    """Set on shutdown (from any thread): open event streams wake and end at once."""

    def __init__(self, wake: Callable[[], None]):
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake()


class Hub:
    """Per project: the latest Board, read again when the change signal names the project (or none),
    at a new minute, or FALLBACK seconds after the last read; streams wait in `changed`."""

    def __init__(self, engine: Engine, projects: dict, clock: Callable[[], datetime]):
        self.engine, self.projects, self.clock = engine, projects, clock
        self._cache: dict[int, tuple[tuple, float, Board]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._versions: dict[int, int] = {}        # per project: signals for it; key -1: signals for all
        self._waiting: dict[int, asyncio.Event] = {}
        self._names: dict[int, str] = {}
        self._sweeper: asyncio.Future | None = None      # the running _sweep, if any
        self._again = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.stopping = _Stopping(self._signal_all)

    def project_id(self, token: str, kind: str = boards.BOARD) -> tuple[int, str] | None:
        with UnitOfWork(self.engine, readonly=True) as uow:
            p = uow.boards.project_by_token(token, kind)
            return (p.id, p.name) if p is not None and p.name in self.projects else None

    # ---- the change signal: from any thread into the server's event loop ----------------------------
    def _listen(self) -> None:
        """Subscribe to the process's change signal from the server's loop (again after a restart)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._unsubscribe is None:
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._loop = loop
            self._unsubscribe = changes.feed(self.engine).subscribe(self._signal)

    def _signal(self, pid: int | None) -> None:
        loop = self._loop
        try:
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._bump, pid)
        except RuntimeError:                        # the loop closed meanwhile: the server is gone
            pass
        if loop is None or loop.is_closed():
            self._stop_listening()

    def _signal_all(self) -> None:
        self._signal(None)

    def _stop_listening(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe, stop = None, self._unsubscribe
            stop()

    def _bump(self, pid: int | None) -> None:
        """A signal, in the loop. One that names no project (SQLite) is narrowed down first: one read
        of every watched project's signature, then only the screens of those that moved wake."""
        if pid is None and not self.stopping.is_set():
            self._again = True
            if self._sweeper is None or self._sweeper.done():
                self._sweeper = asyncio.ensure_future(self._sweep())
            return
        self._wake(pid)

    async def _sweep(self) -> None:
        try:
            while self._again:                             # a signal during a round: one more round
                self._again = False
                watched = {pid: (self._names[pid], hit[2].sig, hit[2].token) for pid, hit in self._cache.items()}
                for pid in await asyncio.to_thread(self._moved, watched):
                    self._wake(pid)
        except Exception:                                  # (the database away: wake all, each reads for itself)
            log.exception("web: the change sweep failed")
            self._wake(None)

    def _moved(self, watched: dict[int, tuple[str, str, str | None]]) -> list[int]:
        """The watched projects whose signature or token is not what their screens have."""
        now, moved = self.clock(), []
        with UnitOfWork(self.engine, readonly=True) as uow:
            for pid, (name, sig, token) in watched.items():
                minute = now.astimezone(self.projects[name].tz).strftime(":%Y%m%d%H%M")
                if (uow.boards.signature(pid) + minute, uow.boards.current_token(pid)) != (sig, token):
                    moved.append(pid)
        return moved

    def _wake(self, pid: int | None) -> None:
        key = -1 if pid is None else pid
        self._versions[key] = self._versions.get(key, 0) + 1
        for p in list(self._waiting) if pid is None else [pid]:
            ev = self._waiting.pop(p, None)
            if ev is not None:
                ev.set()
        if self.stopping.is_set():
            self._stop_listening()

    def version(self, pid: int) -> int:
        """Grows with every signal that may concern `pid`."""
        return self._versions.get(pid, 0) + self._versions.get(-1, 0)

    async def changed(self, pid: int, seen: int, timeout: float) -> None:
        """Return when a signal for `pid` came after `seen` (its version), or after `timeout` seconds."""
        if self.version(pid) != seen or self.stopping.is_set():
            return
        ev = self._waiting.setdefault(pid, asyncio.Event())
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except TimeoutError:
            pass

    # ---- the board itself ---------------------------------------------------------------------------
    async def current(self, pid: int, name: str) -> Board:
        """The Board, read once for all screens whenever a signal, a new minute or FALLBACK calls for it."""
        self._listen()
        self._names[pid] = name
        lock = self._locks.setdefault(pid, asyncio.Lock())
        async with lock:
            key = (self.version(pid), self.clock().astimezone(self.projects[name].tz).strftime("%Y%m%d%H%M"))
            hit = self._cache.get(pid)
            if hit and hit[0] == key and time.monotonic() - hit[1] < FALLBACK:
                return hit[2]
            board = await asyncio.to_thread(self._refresh, pid, name, hit[2] if hit else None)
            self._cache[pid] = (key, time.monotonic(), board)
            return board

    def _refresh(self, pid: int, name: str, hit: Board | None) -> Board:
        now = self.clock()
        settings = self.projects[name]
        with UnitOfWork(self.engine, readonly=True) as uow:
            token = uow.boards.current_token(pid)
            # the minute is in the signature: the clock, the phase of the day and the times in state move
            sig = uow.boards.signature(pid) + now.astimezone(settings.tz).strftime(":%Y%m%d%H%M")
            if hit and hit.sig == sig:
                return hit._replace(token=token)
            project = uow.boards.project(pid)
            state = board_state(uow, project, settings, now)
        return Board(sig, state, token, json.dumps(state, ensure_ascii=False))


def _not_found() -> PlainTextResponse:
    return PlainTextResponse("Not Found", status_code=404)


class _Pages:
    """The route handlers: every page looks up its token first (unknown: a bare 404)."""

    def __init__(self, engine: Engine, projects: dict, hub: Hub, caps: StreamCaps):
        self.engine, self.projects, self.hub, self.caps = engine, projects, hub, caps

    async def lookup(self, request: Request):
        return await asyncio.to_thread(self.hub.project_id, request.path_params["token"])

    async def board_page(self, request: Request):
        found = await self.lookup(request)
        return pages.board_html(found[1]) if found else _not_found()

    async def board_json(self, request: Request):
        found = await self.lookup(request)
        if not found:
            return _not_found()
        return JSONResponse((await self.hub.current(*found)).state, headers={"Cache-Control": "no-store"})

    async def events(self, request: Request):
        found = await self.lookup(request)
        if not found:
            return _not_found()
        if not self.caps.take(found[0]):
            return PlainTextResponse("Too many open streams", status_code=503,
                                     headers={"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"})
        return _Stream(_stream(request, self.hub, found), lambda: self.caps.give(found[0]))

    async def report(self, request: Request):
        found = await asyncio.to_thread(self.hub.project_id, request.path_params["token"], boards.REPORT)
        if not found:
            return _not_found()
        return await asyncio.to_thread(pages.report_response, self.engine, self.projects[found[1]], found, request,
                                       self.hub.clock)

    @staticmethod
    async def asset(request: Request):
        name = request.path_params["name"]
        if name not in ASSETS:
            return _not_found()
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=300"})


def make_web(engine: Engine, projects: dict, clock: Callable[[], datetime], max_streams: int = MAX_STREAMS,
             max_streams_per_board: int = MAX_STREAMS_PER_BOARD, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app. `projects`: name → ProjectSettings; `clock`: the one wall clock's `now`; the caps
    on open event streams (config.yaml web:); `extra`: more routes (/healthz, /readyz, /metrics)."""
    hub = Hub(engine, projects, clock)
    p = _Pages(engine, projects, hub, StreamCaps(max_streams, max_streams_per_board))
    routes = [Route("/board/{token}", p.board_page), Route("/board/{token}/state", p.board_json),
              Route("/board/{token}/events", p.events), Route("/report/{token}", p.report),
              Route("/assets/{name}", p.asset), *extra]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={404: lambda r, e: _not_found(), 405: lambda r, e: _not_found()})
    app.state.stopping = hub.stopping
    return app


async def _stream(request: Request, hub: Hub, found: tuple[int, str]):
    """The board state now and after every change, a tick while nothing changes; `gone` and the end
    as soon as the token is reset (checked against the hub's token, at no extra query). Between
    events the stream waits for the change signal (at most until its next tick is due)."""
    yield "retry: 1000\n\n"
    last_sig, last_sent = None, time.monotonic()
    while not hub.stopping.is_set() and not await request.is_disconnected():
        seen = hub.version(found[0])
        board = await hub.current(*found)
        if board.token != request.path_params["token"]:
            yield "event: gone\ndata: {}\n\n"
            return
        if board.sig != last_sig:
            yield f"event: state\ndata: {board.data}\n\n"
        if board.sig != last_sig or time.monotonic() - last_sent >= TICK:      # the server's time, for the clock
            yield f"event: tick\ndata: {{\"now_ms\": {int(hub.clock().timestamp() * 1000)}}}\n\n"
            last_sig, last_sent = board.sig, time.monotonic()
        await hub.changed(found[0], seen, max(0.05, TICK - (time.monotonic() - last_sent)))


class WebServer:
    """uvicorn for the pages: `run()` in this thread (reception-bot web) or `start()` in a daemon
    thread (inside reception-bot run, tests); `stop()` ends open event streams, then the server."""

    def __init__(self, app: Starlette, host: str, port: int):
        import uvicorn

        stopping = app.state.stopping

        class _Server(uvicorn.Server):
            def handle_exit(self, sig, frame):          # SIGINT/SIGTERM when run in the main thread
                stopping.set()
                super().handle_exit(sig, frame)

        self.host, self.port, self._stopping = host, port, stopping
        self.server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                                             timeout_graceful_shutdown=3))
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        self.server.run()

    def start(self) -> WebServer:
        self._stopping.clear()
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError(f"the web server did not start on {self.host}:{self.port}")
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)


def serve_in_thread(app: Starlette, host: str, port: int) -> WebServer:
    return WebServer(app, host, port).start()
