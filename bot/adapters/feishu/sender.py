"""Outbound side of the Feishu adapter: a rate-limited, retrying sender (what a message says: cards.py).

One worker thread drains a FIFO of sends. Feishu allows 5 messages/s per receiver
(group or user); the sender spaces sends to the same receiver accordingly. A rate-limit
answer (HTTP 429 or code 99991400, with the `x-ogw-ratelimit-reset` header in seconds)
is retried after the reset with exponential backoff, never dropped; the `uuid` keeps
retries idempotent on Feishu's side. Other transient failures (network, 5xx) are retried
a few times; a permanent API error is logged and the message skipped.

A file (`Outgoing.file`, the /导出 workbook) is uploaded once (`im/v1/files`, multipart, with
the same throttling and retries) and then sent as a "file" message to each receiver; if the
upload fails for good, each receiver gets `FILE_FAILED` instead. A picture (.png/.jpg, the
/周报 /月报 chart) goes through `im/v1/images` as an "image" message; `IMAGE_FAILED` when it cannot.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import lark_oapi as lark
from lark_oapi.api.im.v1 import (
    CreateFileRequest,
    CreateFileRequestBody,
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
)

from bot import metrics
from bot.adapters.pacing import Pacer
from rules import texts as T

log = logging.getLogger(__name__)

RATE_LIMIT_CODE = 99991400
MAX_TRANSIENT_RETRIES = 5
# Feishu counts 5/s where the messages arrive; a send's latency varies by tens of ms, so our window is a
# little longer than the server's (a burst measured at the server was once 0.94 s for six messages).
RATE_MARGIN_S = 0.1
IMAGE_TYPES = (".png", ".jpg", ".jpeg")   # sent as "image" messages (im/v1/images, ≤ 10 MB)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024  # Feishu's limit for im/v1/files; empty files are refused too
UPLOAD_BUCKET = "im/v1/files"  # throttle key for uploads (they have no receiver)
# im/v1/files file_type by extension: opus, mp4, pdf, doc, xls, ppt, else stream
FILE_TYPES = {
    ".opus": "opus",
    ".mp4": "mp4",
    ".pdf": "pdf",
    ".doc": "doc",
    ".docx": "doc",
    ".xls": "xls",
    ".xlsx": "xls",
    ".ppt": "ppt",
    ".pptx": "ppt",
}


def feishu_uuid(key: str, receive_id: str = "") -> str | None:
    """A Feishu `uuid` (≤ 50 chars) from an Outgoing.key; per receiver when `receive_id` given."""
    if not key:
        return None
    raw = f"{key}|{receive_id}" if receive_id else key
    return raw if len(raw) <= 50 else "h" + hashlib.sha256(raw.encode()).hexdigest()[:49]


@dataclass(frozen=True)
class Send:
    receive_id_type: str  # "chat_id" | "open_id"
    receive_id: str
    msg_type: str  # "text" | "interactive" | "file"
    content: str  # JSON string, as Feishu wants it
    uuid: str | None = None
    done: Callable[[bool], None] | None = field(default=None, compare=False)  # told: sent (True) or not


@dataclass(frozen=True)
class FileSend:
    """A local file for one or more receivers: uploaded once, then a "file" message to each.

    `key` is the Outgoing.key; the file message's uuid comes from `key + ":file"`.
    """

    path: str
    receivers: tuple[tuple[str, str], ...]  # (receive_id_type, receive_id)
    key: str = ""
    done: Callable[[bool], None] | None = field(default=None, compare=False)  # told when it is over


class FeishuSender:
    def __init__(self, client: lark.Client, per_receiver_per_s: float = 5.0, max_backoff: float = 30.0):
        self._client = client
        self.on_call: Callable[[], None] = lambda: None     # every API call (the monthly quota's counter)
        self._rate = max(per_receiver_per_s, 0.1)
        self._max_backoff = max_backoff
        self._q: queue.Queue[Send | FileSend | None] = queue.Queue()
        # Feishu counts 5/s where the messages arrive: our window is RATE_MARGIN_S longer than the server's
        self._pacer = Pacer(max(int(self._rate), 1), max(int(self._rate), 1) / self._rate + RATE_MARGIN_S)
        self._pending = 0
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feishu-sender", daemon=True)
        self._thread.start()

    def put(self, send: Send | FileSend) -> None:
        with self._cv:
            self._pending += 1
        self._q.put(send)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued send is done (sent or given up); False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self.wait_idle(timeout)
        self._q.put(None)
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            ok = False
            try:
                if isinstance(item, FileSend):
                    self._deliver_file(item)  # a file that cannot go is replaced by FILE_FAILED: settled
                    ok = True
                else:
                    ok = self._deliver(item)
            except Exception:  # never let the sender thread die
                who = item.receivers if isinstance(item, FileSend) else item.receive_id
                log.exception("feishu: giving up on a message to %s", who)
            finally:
                _tell(item.done, ok)
                with self._cv:
                    self._pending -= 1
                    self._cv.notify_all()

    def _throttle(self, receive_id: str) -> None:
        time.sleep(self._pacer.reserve(receive_id, time.monotonic()))

    def _deliver(self, s: Send) -> bool:
        """Send `s` (throttled, retried); False after a permanent error (logged)."""
        body = (
            CreateMessageRequestBody.builder()
            .receive_id(s.receive_id)
            .msg_type(s.msg_type)
            .content(s.content)
        )
        if s.uuid:
            body = body.uuid(s.uuid)
        req = (
            CreateMessageRequest.builder()
            .receive_id_type(s.receive_id_type)
            .request_body(body.build())
            .build()
        )
        resp = self._call(lambda: self._client.im.v1.message.create(req), s.receive_id, f"send to {s.receive_id}")
        return resp is not None

    def _deliver_file(self, f: FileSend) -> None:
        """Upload `f.path`, then a "file" (or "image") message to each receiver; `FILE_FAILED`
        (`IMAGE_FAILED`) to a receiver when the upload or its message fails for good."""
        kind = _upload_kind(f.path)
        file_key = self._upload(f.path, kind)
        many = len(f.receivers) > 1
        for id_type, rid in f.receivers:
            per = rid if many else ""
            try:
                if file_key:
                    content = json.dumps({kind.key_field: file_key})
                    if self._deliver(Send(id_type, rid, kind.msg_type, content, feishu_uuid(f"{f.key}:file", per))):
                        continue
                text = json.dumps({"text": kind.failed}, ensure_ascii=False)
                self._deliver(Send(id_type, rid, "text", text, feishu_uuid(f"{f.key}:file-failed", per)))
            except Exception:
                log.exception("feishu: giving up on a message to %s", rid)

    def _upload(self, path: str, kind: _UploadKind) -> str | None:
        """The file_key (image_key) of `path` uploaded as `kind`, or None (logged) when that fails."""
        name = os.path.basename(path)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as e:
            log.error("feishu: cannot read the %s to send %s: %s", kind.what, path, e)
            return None
        if not data or len(data) > kind.max_bytes:
            log.error("feishu: cannot send %s: %d bytes (Feishu takes %s)", path, len(data), kind.limit_text)
            return None
        try:  # a fresh request and stream per attempt: the SDK reads the stream into a multipart body
            resp = self._call(lambda: kind.create(self._client, name, data), UPLOAD_BUCKET, f"{kind.what} upload of {name}")
        except Exception:
            log.exception("feishu: %s upload of %s failed", kind.what, path)
            return None
        key = getattr(resp.data, kind.key_field, None) if resp is not None and resp.data else None
        if resp is not None and not key:
            log.error("feishu: %s upload of %s answered without a %s", kind.what, path, kind.key_field)
        return key

    def _call(self, call, bucket: str, what: str):
        """`call()` with throttling on `bucket` and retries: the response on success, None after a
        permanent error (logged); raises once transient failures (exceptions) exceed the limit."""
        attempt, transient = 0, 0
        while True:
            self._throttle(bucket)
            attempt += 1
            self.on_call()
            try:
                resp = call()
            except Exception as e:  # network error, non-JSON body…
                transient += 1
                if transient > MAX_TRANSIENT_RETRIES:
                    raise
                log.warning("feishu: %s failed (%s), retry %d", what, e, transient)
                time.sleep(self._backoff(transient))
                continue
            status = resp.raw.status_code if resp.raw else 200
            if resp.success():
                return resp
            if status == 429 or resp.code == RATE_LIMIT_CODE:
                metrics.RATE_LIMITED.labels("feishu").inc()
                wait = max(_reset_seconds(resp), self._backoff(attempt))
                log.warning("feishu: rate limited (%s), retry in %.1fs", what, wait)
                time.sleep(wait)
                continue
            if status >= 500 and transient < MAX_TRANSIENT_RETRIES:
                transient += 1
                time.sleep(self._backoff(transient))
                continue
            log.error(
                "feishu: %s failed: code=%s msg=%s log_id=%s",
                what,
                resp.code,
                resp.msg,
                resp.get_log_id(),
            )
            return None

    def _backoff(self, attempt: int) -> float:
        return min(0.2 * 2 ** (attempt - 1), self._max_backoff)


def _create_file(client: lark.Client, name: str, data: bytes):
    """im/v1/files: multipart fields file_type, file_name, file."""
    file_type = FILE_TYPES.get(os.path.splitext(name)[1].lower(), "stream")
    body = CreateFileRequestBody.builder().file_type(file_type).file_name(name).file(io.BytesIO(data)).build()
    return client.im.v1.file.create(CreateFileRequest.builder().request_body(body).build())


def _create_image(client: lark.Client, name: str, data: bytes):
    """im/v1/images: multipart fields image_type, image."""
    body = CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(data)).build()
    return client.im.v1.image.create(CreateImageRequest.builder().request_body(body).build())


@dataclass(frozen=True)
class _UploadKind:
    """How one kind of attachment is uploaded and sent (a file, or a picture shown inline)."""

    what: str
    max_bytes: int
    limit_text: str
    create: Callable            # (client, name, data) -> the SDK's response
    key_field: str              # in the response's data, and in the message content
    msg_type: str
    failed: str                 # said instead when it cannot be sent


_FILE = _UploadKind("file", MAX_FILE_BYTES, "1 B to 30 MB", _create_file, "file_key", "file", T.FILE_FAILED)
_IMAGE = _UploadKind("image", MAX_IMAGE_BYTES, "images up to 10 MB", _create_image, "image_key", "image", T.IMAGE_FAILED)


def _upload_kind(path: str) -> _UploadKind:
    return _IMAGE if os.path.splitext(path)[1].lower() in IMAGE_TYPES else _FILE


def _tell(done, ok: bool) -> None:
    """Report a send's outcome to its owner (the outbox); a failing report must not stop the sender."""
    if done is not None:
        try:
            done(ok)
        except Exception:
            log.exception("feishu: recording a send's outcome failed")


def _reset_seconds(resp) -> float:
    headers = (resp.raw.headers or {}) if resp.raw else {}
    for k, v in headers.items():
        if k.lower() == "x-ogw-ratelimit-reset":
            try:
                return float(v)
            except ValueError:
                return 0.0
    return 0.0
