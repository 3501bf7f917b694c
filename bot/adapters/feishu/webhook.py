"""The Feishu webhook's HTTP side: a request is refused here before the SDK sees it.

A request must be small (MAX_BODY, refused from its Content-Length before any of it is read),
arrive within the read timeout, carry an encrypted body, and be signed with a timestamp at most
MAX_SKEW away from now. Only Feishu's URL check (the challenge, which Feishu does not sign) may come
unsigned. The SDK then decrypts, checks the verification token and dispatches. A refusal is one
log line with the reason; at most MAX_CONNECTIONS requests are served at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lark_oapi.core.utils import AESCipher

from bot.adapters.feishu import sdk_compat
from bot.adapters.feishu.sdk_compat import SIGNED_HEADERS

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20  # 1 MB: Feishu's events are a few KB
MAX_SKEW = 300  # seconds between the signature's timestamp and our clock
MAX_CONNECTIONS = 32


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def check(headers, body: bytes, encrypt_key: str, now: float) -> None:
    """Raise Rejected unless `body` is encrypted and signed (with a fresh timestamp) by `encrypt_key`."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("encrypt"), str):
        raise Rejected(400, "body is not encrypted")
    ts, nonce, sig = (headers.get(h) or "" for h in SIGNED_HEADERS[:3])
    if not sig:
        if _is_url_check(doc["encrypt"], encrypt_key):
            return  # Feishu does not sign its URL check; the SDK checks its token
        raise Rejected(401, "no signature")
    if not ts.isdigit() or abs(now - int(ts)) > MAX_SKEW:
        raise Rejected(401, f"signature timestamp {ts[:20]!r} is more than {MAX_SKEW} s off")
    expected = hashlib.sha256((ts + nonce + encrypt_key).encode() + body).hexdigest()
    if not hmac.compare_digest(expected, sig):
        raise Rejected(401, "bad signature")


def _is_url_check(encrypted: str, encrypt_key: str) -> bool:
    try:
        return json.loads(AESCipher(encrypt_key).decrypt_str(encrypted)).get("type") == "url_verification"
    except Exception:  # not ours: undecryptable, not JSON, not an object
        return False


class WebhookServer(ThreadingHTTPServer):
    """A threading server that serves at most `max_connections` at once; the rest are closed at once."""

    daemon_threads = True

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS):
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            log.warning("feishu webhook: refused %s: too many open connections", client_address[0])
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def serve(adapter) -> WebhookServer:
    """The webhook server for `adapter` (its settings and dispatcher), not yet serving."""
    sdk_compat.quiet_dispatcher_tracebacks()
    s = adapter.settings
    return WebhookServer((s.webhook_host, s.webhook_port), _handler(adapter, s.webhook_timeout), MAX_CONNECTIONS)


def _handler(adapter, timeout: float) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `adapter`'s settings and dispatcher."""
    return type("Handler", (_Handler,), {"settings": adapter.settings, "dispatcher": adapter.dispatcher,
                                         "read_timeout": timeout, "clock": adapter.clock})


class _Handler(BaseHTTPRequestHandler):
    """One webhook request: refused here (one log line) or handed to the SDK's dispatcher."""

    settings = dispatcher = clock = None
    read_timeout = 10.0

    def setup(self):
        self.timeout = self.read_timeout  # every socket read, the request line and headers included
        super().setup()

    def do_POST(self):  # noqa: N802
        if self.path.split("?")[0] != self.settings.webhook_path:
            self._answer(404, {"msg": "not found"}, "unknown path")
            return
        try:
            body = self._body(time.monotonic() + self.read_timeout)
            check(self.headers, body, self.settings.encrypt_key, self.clock.now().timestamp())
        except Rejected as r:
            self.close_connection = True
            self._answer(r.status, {"msg": r.reason}, r.reason)
            return
        resp = self.dispatcher.do(sdk_compat.raw_request(self.path, body, self.headers))
        status = resp.status_code or 200
        if status != 200:
            log.warning("feishu webhook: refused %s: %s", self.client_address[0], _sdk_reason(resp))
        self.send_response(status)
        for k, v in (resp.headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(resp.content or b"")

    def _body(self, deadline: float) -> bytes:
        """The body, at most MAX_BODY bytes, all of it before `deadline` (a slow drip is cut off)."""
        if self.headers.get("Transfer-Encoding"):
            raise Rejected(411, "a chunked body is not accepted")
        raw = self.headers.get("Content-Length") or ""
        if not raw.strip().isdigit():
            raise Rejected(411, "no Content-Length")
        length = int(raw)
        if length > MAX_BODY:
            raise Rejected(413, f"body of {length} bytes is over {MAX_BODY}")
        chunks, got = [], 0
        try:
            while got < length:
                if time.monotonic() > deadline:
                    raise Rejected(408, "body too slow")
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
