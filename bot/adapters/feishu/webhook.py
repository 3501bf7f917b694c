"""The Feishu webhook's HTTP side: a request is refused here before the SDK sees it.

A request must be small (MAX_BODY, refused from its Content-Length before any of it is read),
arrive in time (its head within `timeout` of the connection's start, its body within `timeout` of
the head's end: deadlines, not per-read timeouts a drip could keep resetting), carry an encrypted
body, and be signed with a timestamp at most MAX_SKEW away from now. Only Feishu's URL check (the
challenge, which Feishu does not sign) may come unsigned. The SDK then decrypts, checks the
verification token and dispatches. A refusal is one log line with the reason, never a traceback.

Slow clients (issue 22: 40 connections dripping a header byte every 5 s held all 32 handler threads,
and every signed event was refused for as long as the drip lasted). One intake thread reads every
connection's request, head and body, through a selector: a slow connection costs a socket and a
buffer, not a thread, and when MAX_PENDING connections are unfinished the oldest is closed to make
room. Only a complete request (or one whose body ran out of time, to be answered 408) takes one of
the MAX_CONNECTIONS handler threads, for as long as its handling takes, so no number of slow
connections can starve them. Why not serve the webhook from uvicorn like the web pages: uvicorn
(0.54) puts no deadline on a connection's first request head (`timeout_keep_alive` starts after a
response), so a drip would hold its connections there as well, and the limits tested here (1 MB
from Content-Length, 408 for a stalled body, one line per refusal) would have to be rebuilt.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import queue
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lark_oapi.core.utils import AESCipher

from bot.adapters.feishu import sdk_compat
from bot.adapters.feishu.sdk_compat import SIGNED_HEADERS

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20  # 1 MB: Feishu's events are a few KB
MAX_SKEW = 300  # seconds between the signature's timestamp and our clock
MAX_CONNECTIONS = 32  # requests handled at once, a thread each
MAX_PENDING = 256  # connections still sending their request (no thread each); when full the oldest goes
MAX_HEAD = 64 * 1024  # a longer head is handed over unfinished: the handler refuses it
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LENGTH = re.compile(rb"\ncontent-length:[ \t]*(\d{1,8})[ \t]*\r?\n", re.IGNORECASE)
_CHUNKED = re.compile(rb"\ntransfer-encoding:", re.IGNORECASE)


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def check(headers, body: bytes, encrypt_key: str, now: float) -> None:
    """Raise Rejected unless `body` is encrypted and signed (with a fresh timestamp) by `encrypt_key`
    and its payload is JSON that is not absurdly nested."""
    doc = _json(body, "body")
    if not isinstance(doc, dict) or not isinstance(doc.get("encrypt"), str):
        raise Rejected(400, "body is not encrypted")
    ts, nonce, sig = (headers.get(h) or "" for h in SIGNED_HEADERS[:3])
    if not sig:
        if _is_url_check(doc["encrypt"], encrypt_key):
            return  # Feishu does not sign its URL check; the SDK checks its token
        raise Rejected(401, "no signature")
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        raise Rejected(401, f"signature timestamp {ts[:20]!r} is not a number of seconds")
    if abs(now - int(ts)) > MAX_SKEW:
        raise Rejected(401, f"signature timestamp {ts[:20]!r} is more than {MAX_SKEW} s off")
    expected = hashlib.sha256((ts + nonce + encrypt_key).encode() + body).hexdigest()
    if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace")):
        raise Rejected(401, "bad signature")
    _decrypted(doc["encrypt"], encrypt_key)  # the SDK parses it again; here a hostile one is one line


def _json(raw: bytes | str, what: str):
    try:
        return json.loads(raw)
    except RecursionError:
        raise Rejected(400, f"{what} is nested too deep") from None
    except ValueError:
        raise Rejected(400, f"{what} is not JSON") from None


def _decrypted(encrypted: str, encrypt_key: str):
    try:
        plain = AESCipher(encrypt_key).decrypt_str(encrypted)
    except Exception:  # not ours: bad base64, bad padding, not UTF-8
        raise Rejected(400, "payload does not decrypt") from None
    return _json(plain, "payload")


def _is_url_check(encrypted: str, encrypt_key: str) -> bool:
    try:
        doc = _decrypted(encrypted, encrypt_key)
    except Rejected:
        return False
    return isinstance(doc, dict) and doc.get("type") == "url_verification"


@dataclass(eq=False)
class _Conn:
    """A connection while its request comes in: the bytes so far and the deadline of what is awaited."""

    sock: socket.socket
    addr: tuple
    started: float
    deadline: float  # for the head from the start, for the body from the head's end
    data: bytearray = field(default_factory=bytearray)
    head_end: int | None = None  # where the body starts, once the head is in
    need: int | None = None  # head and body bytes to gather; None: hand over at the head's end


def _wanted(head: bytes) -> int | None:
    """Head and body bytes to gather, or None when the handler refuses the request from its head."""
    length = _LENGTH.search(head)
    if length is None or _CHUNKED.search(head) or int(length[1]) > MAX_BODY:
        return None
    return len(head) + int(length[1])


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


class _Intake:
    """One thread that reads every new connection's request until it is complete (handed to `ready`),
    out of time (a head: closed; a body: handed over, answered 408) or pushed out by newer ones."""

    def __init__(self, timeout: float, max_pending: int, ready: Callable[[_Conn], None]):
        self.timeout, self.max_pending, self.ready = timeout, max_pending, ready
        self.pending: dict[_Conn, None] = {}  # oldest first
        self.incoming: queue.SimpleQueue = queue.SimpleQueue()
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="feishu-webhook-intake", daemon=True)
        self.thread.start()

    def add(self, sock: socket.socket, addr) -> None:
        """From the accepting thread: a new connection to read."""
        self.incoming.put((sock, addr))
        self._wake()

    def close(self) -> None:
        self.stopping = True
        self._wake()
        self.thread.join(5)
        for c in list(self.pending):
            self._forget(c)
            _close(c.sock)
        while not self.incoming.empty():
            _close(self.incoming.get_nowait()[0])
        self.sel.close()
        _close(self._wake_r)
        _close(self._wake_w)

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # its buffer is full (the thread will wake anyway) or it is closed
            pass

    def _run(self) -> None:
        while not self.stopping:
            try:
                for key, _ in self.sel.select(self._wait()):
                    if key.data is None:
                        self._admit()
                    elif key.data in self.pending:  # not evicted by this round's admissions
                        self._read(key.data)
                self._expire(time.monotonic())
            except Exception:  # a bug: say so, keep reading the other connections
                log.exception("feishu webhook: intake")

    def _wait(self) -> float:
        if not self.pending:
            return 1.0
        return min(1.0, max(0.0, min(c.deadline for c in self.pending) - time.monotonic()))

    def _admit(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        while not self.incoming.empty():
            sock, addr = self.incoming.get_nowait()
            if len(self.pending) >= self.max_pending:
                self._evict(next(iter(self.pending)))
            now = time.monotonic()
            c = _Conn(sock, addr, now, now + self.timeout)
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, c)
            self.pending[c] = None

    def _read(self, c: _Conn) -> None:
        try:
            chunk = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:  # reset by the client
            chunk = b""
        if not chunk:  # the client stopped sending: a complete head is answered, a partial one closed
            self._forget(c)
            if c.head_end is not None:
                self.ready(c)
            else:
                _close(c.sock)
            return
        c.data += chunk
        if self._complete(c, len(chunk)):
            self._forget(c)
            self.ready(c)

    def _complete(self, c: _Conn, new: int) -> bool:
        if c.head_end is None:
            end = _HEAD_END.search(c.data, max(0, len(c.data) - new - 3))  # only where the new bytes reach
            if end is None:
                return len(c.data) > MAX_HEAD
            c.head_end, c.deadline = end.end(), time.monotonic() + self.timeout
            c.need = _wanted(bytes(c.data[: c.head_end]))
        return c.need is None or len(c.data) >= c.need

    def _expire(self, now: float) -> None:
        for c in [c for c in self.pending if c.deadline <= now]:
            self._forget(c)
            if c.head_end is not None:
                self.ready(c)  # the handler answers 408 from what came
                continue
            log.warning("feishu webhook: refused %s: no complete request head within %g s", c.addr[0], self.timeout)
            _close(c.sock)

    def _evict(self, c: _Conn) -> None:
        self._forget(c)
        log.warning("feishu webhook: refused %s: closed unfinished after %.1f s to make room (%d connections open)",
                    c.addr[0], time.monotonic() - c.started, self.max_pending)
        _close(c.sock)

    def _forget(self, c: _Conn) -> None:
        del self.pending[c]
        self.sel.unregister(c.sock)


class WebhookServer(ThreadingHTTPServer):
    """Requests are read by the intake (no thread per connection) and handled by at most
    `max_connections` threads at once; a complete request beyond that is refused (closed) at once."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog (socketserver's 5 makes a burst of connections wait 1 s)

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS, timeout: float = 10.0,
                 max_pending: int = MAX_PENDING):
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)
        self._intake = _Intake(timeout, max_pending, self._handle)

    def process_request(self, request, client_address):
        self._intake.add(request, client_address)

    def _handle(self, c: _Conn) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("feishu webhook: refused %s: too many requests at once", c.addr[0])
            _close(c.sock)
            return
        try:
            super().process_request(c, c.addr)
        except Exception:
            self._slots.release()
            _close(c.sock)
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown_request(self, request):
        super().shutdown_request(request.sock if isinstance(request, _Conn) else request)

    def server_close(self):
        super().server_close()
        self._intake.close()


def serve(adapter) -> WebhookServer:
    """The webhook server for `adapter` (its settings and dispatcher), not yet serving."""
    sdk_compat.quiet_dispatcher_tracebacks()
    s = adapter.settings
    return WebhookServer((s.webhook_host, s.webhook_port), _handler(adapter, s.webhook_timeout), MAX_CONNECTIONS,
                         s.webhook_timeout, MAX_PENDING)


def _handler(adapter, timeout: float) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `adapter`'s settings and dispatcher."""
    return type("Handler", (_Handler,), {"settings": adapter.settings, "dispatcher": adapter.dispatcher,
                                         "read_timeout": timeout, "clock": adapter.clock})


class _Replay(io.RawIOBase):
    """A connection's bytes for its handler: what the intake read, then the socket until the deadline."""

    def __init__(self, conn: _Conn):
        super().__init__()
        self.conn, self.pos = conn, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.conn.data
        if self.pos < len(data):
            n = min(len(b), len(data) - self.pos)
            b[:n] = data[self.pos : self.pos + n]
            self.pos += n
            return n
        left = self.conn.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("past the deadline")
        self.conn.sock.settimeout(left)
        return self.conn.sock.recv_into(b)


class _Handler(BaseHTTPRequestHandler):
    """One webhook request: refused here (one log line) or handed to the SDK's dispatcher."""

    settings = dispatcher = clock = None
    read_timeout = 10.0

    def setup(self):
        self.conn, self.request = self.request, self.request.sock
        self.timeout = self.read_timeout  # for writing the answer; reading keeps to the deadlines
        super().setup()
        self.rfile.close()
        self.rfile = io.BufferedReader(_Replay(self.conn))

    def do_POST(self):  # noqa: N802
        if self.path.split("?")[0] != self.settings.webhook_path:
            self._answer(404, {"msg": "not found"}, "unknown path")
            return
        try:
            body = self._body()
            check(self.headers, body, self.settings.encrypt_key, self.clock.now().timestamp())
        except Rejected as r:
            self.close_connection = True
            self._answer(r.status, {"msg": r.reason}, r.reason)
            return
        resp = self.dispatcher.do(sdk_compat.raw_request(self.path, body, self.headers))
        status = resp.status_code or 200
        if status != 200:
            log.warning("feishu webhook: refused %s: %s", self.client_address[0], _sdk_reason(resp))
        self.connection.settimeout(self.read_timeout)
        self.send_response(status)
        for k, v in (resp.headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(resp.content or b"")

    def _body(self) -> bytes:
        """The body, at most MAX_BODY bytes, all of it before the deadline (a slow drip is cut off)."""
        if self.headers.get("Transfer-Encoding"):
            raise Rejected(411, "a chunked body is not accepted")
        raw = (self.headers.get("Content-Length") or "").strip()
        if not (raw.isascii() and raw.isdigit()):
            raise Rejected(411, "no Content-Length")
        if len(raw) > 12 or int(raw) > MAX_BODY:
            raise Rejected(413, f"body of {raw if len(raw) <= 12 else raw[:12] + '…'} bytes is over {MAX_BODY}")
        length, chunks, got = int(raw), [], 0
        try:
            while got < length:
                chunk = self.rfile.read1(min(65536, length - got))
                if not chunk:
                    raise Rejected(400, f"body cut short at {got} of {length} bytes")
                chunks.append(chunk)
                got += len(chunk)
        except TimeoutError:
            raise Rejected(408, f"body stalled after {got} of {length} bytes") from None
        return b"".join(chunks)

    def _answer(self, status: int, body: dict, reason: str) -> None:
        if status != 404:
            log.warning("feishu webhook: refused %s: %s", self.client_address[0], reason)
        raw = json.dumps(body).encode()
        try:
            self.connection.settimeout(self.read_timeout)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except OSError:  # the client is gone: nothing to answer
            pass

    def log_error(self, fmt, *args):  # a request line or headers that time out, a bad request line
        log.warning("feishu webhook: refused %s: " + fmt, self.client_address[0], *args)

    def log_message(self, fmt, *args):
        log.debug("feishu webhook: " + fmt, *args)


def _sdk_reason(resp) -> str:
    try:
        return str(json.loads(resp.content or b"{}").get("msg"))[:200]
    except ValueError:
        return f"status {resp.status_code}"
