"""A local fake of the Feishu open platform, enough for lark-oapi's HTTP client and long connection.

HTTP (stdlib): tenant token, bot info, message create/reply/patch, file upload (multipart),
the ws endpoint discovery.
WebSocket (websockets' sync server): the SDK's `pbbp2.Frame` protocol — DATA frames carry
events (headers type/message_id/trace_id/sum/seq), the client acks by echoing the frame with
a JSON `Response` payload; CONTROL ping frames are answered with pong + ClientConfig.
Also: event payload builders and webhook AES encryption / signing as Feishu does them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from Crypto.Cipher import AES
from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

from handlers.messages import Incoming, Outgoing
from tests.clock import WALL, wall_ms
from tests.waits import patience

APP_ID, APP_SECRET = "cli_test_app", "test-secret"
TOKEN = "t-fake-tenant-token"
BOT_OPEN_ID, BOT_NAME = "ou_bot", "接待助手"
SERVICE_ID = 7
CLIENT_CONFIG = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}


def wait_for(pred, timeout: float = 20.0, what: str = "condition"):
    """Poll `pred` until it returns something truthy; fail after `timeout` seconds (scaled by the load)."""
    timeout = patience(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class FakeFeishu:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[dict] = []  # successful POST /im/v1/messages
        self.attempts: list[dict] = []  # every POST /im/v1/messages, incl. refused ones
        self.replies: list[dict] = []
        self.patches: list[dict] = []
        self.acks: dict[str, dict] = {}  # ws message_id -> the client's Response
        self.pings = 0
        self.names: dict[str, str] = {}  # open_id -> display name (the contact API); others: no authority
        self.connections = 0
        self.endpoint_calls = 0
        # per message attempt: (http status, code, reset header), or None to accept that one
        self.fail_plan: deque[tuple[int, int, str] | None] = deque()
        self.uploads: list[dict] = []  # successful POST /im/v1/files: file_key, file_type, file_name, data…
        self.images: list[dict] = []  # successful POST /im/v1/images: image_key, data
        self.upload_attempts = 0
        self.upload_fail_plan: deque[tuple[int, int]] = deque()  # (http status, code) per upload
        self.upload_fail_always: tuple[int, int] | None = None  # (http status, code) for every upload
        self._ids = itertools.count(1)
        self._conn = None
        self.client_config = dict(CLIENT_CONFIG)    # PingInterval: how often the client pings (seconds)
        self._deaf = None                           # a connection left open that carries nothing any more
        self.held: list[tuple[dict, str]] = []      # events for a deaf connection: sent on the next one
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(self))
        self.ws = serve(self._ws_session, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.ws_url = f"ws://127.0.0.1:{self.ws.socket.getsockname()[1]}/ws"
        self._threads = [
            threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self.ws.serve_forever, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def close(self):
        self.ws.shutdown()
        self.http.shutdown()
        self.http.server_close()

    # ---- websocket side ----
    def _ws_session(self, conn):
        with self.lock:
            self._conn = conn
            self.connections += 1
            held, self.held = self.held, []
        for payload, frame_id in held:              # what Feishu could not deliver on the deaf one
            self.push(payload, frame_id=frame_id)
        try:
            for raw in conn:
                if conn is self._deaf:              # open, and silent: no pong, no ack read
                    continue
                frame = Frame()
                frame.ParseFromString(raw)
                headers = {h.key: h.value for h in frame.headers}
                if frame.method == 0 and headers.get("type") == "ping":
                    with self.lock:
                        self.pings += 1
                    pong = Frame(
                        SeqID=0,
                        LogID=0,
                        service=frame.service,
                        method=0,
                        payload=json.dumps(self.client_config).encode(),
                    )
                    pong.headers.add(key="type", value="pong")
                    conn.send(pong.SerializeToString())
                elif frame.method == 1:
                    resp = json.loads(frame.payload)
                    if resp.get("data"):
                        resp["data"] = json.loads(base64.b64decode(resp["data"]))
                    resp["biz_rt"] = headers.get("biz_rt")
                    with self.lock:
                        self.acks[headers["message_id"]] = resp
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                if self._conn is conn:
                    self._conn = None

    def wait_connected(self, count: int = 1, timeout: float = 20.0):
        wait_for(
            lambda: self.connections >= count and self._conn is not None, timeout, f"ws connection #{count}"
        )

    def push(self, payload: dict, chunks: int = 1, frame_id: str | None = None) -> str:
        """Send an event over the long connection (split into `chunks` frames); returns the frame id."""
        frame_id = frame_id or f"frame_{uuid.uuid4().hex[:12]}"
        data = json.dumps(payload, ensure_ascii=False).encode()
        size = -(-len(data) // chunks)
        conn = self._conn
        assert conn is not None, "no ws connection"
        if conn is self._deaf:
            with self.lock:
                self.held.append((payload, frame_id))
            return frame_id
        for seq in range(chunks):
            f = Frame(
                SeqID=next(self._ids),
                LogID=0,
                service=SERVICE_ID,
                method=1,
                payload=data[seq * size : (seq + 1) * size],
            )
            for k, v in (
                ("type", "event"),
                ("message_id", frame_id),
                ("trace_id", uuid.uuid4().hex),
                ("sum", str(chunks)),
                ("seq", str(seq)),
            ):
                f.headers.add(key=k, value=v)
            conn.send(f.SerializeToString())
        return frame_id

    def deafen(self):
        """The current connection stays open and carries nothing: no pongs, no events (they are held
        and sent on the client's next connection, as Feishu delivers an unacknowledged event again)."""
        self._deaf = self._conn

    def drop_connection(self):
        conn = self._conn
        if conn is not None:
            conn.close()

    # ---- queries ----
    def sent_to(self, receive_id: str) -> list[dict]:
        with self.lock:
            return [m for m in self.sent if m["receive_id"] == receive_id]

    def texts_to(self, receive_id: str) -> list[str]:
        return [m["content"].get("text", "") for m in self.sent_to(receive_id)]

    def upload(self, file_key: str) -> dict | None:
        with self.lock:
            return next((u for u in self.uploads if u["file_key"] == file_key), None)


def parse_multipart(body: bytes, content_type: str) -> dict[str, dict]:
    """multipart/form-data → {field name: {"data": bytes, "filename": str | None, "content_type": …}}."""
    boundary = next(
        p.split("=", 1)[1].strip().strip('"') for p in content_type.split(";") if p.strip().startswith("boundary=")
    ).encode()
    fields: dict[str, dict] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, _, data = part[2:].partition(b"\r\n\r\n")  # part[2:]: the CRLF after the boundary
        headers = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = dict(
            (kv.split("=", 1)[0].strip(), kv.split("=", 1)[1].strip().strip('"'))
            for kv in headers.get("content-disposition", "").split(";")[1:]
            if "=" in kv
        )
        fields[disp["name"]] = {
            "data": data[:-2] if data.endswith(b"\r\n") else data,
            "filename": disp.get("filename"),
            "content_type": headers.get("content-type"),
        }
    return fields


def _http_handler(fake: FakeFeishu):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, body: dict, status: int = 200, headers: dict | None = None):
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _raw(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _body(self) -> dict:
            return json.loads(self._raw() or b"{}")

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._reply({"code": 99991663, "msg": "Invalid access token for authorization."}, 400)
            return False

        def do_GET(self):  # noqa: N802
            if urlparse(self.path).path == "/open-apis/bot/v3/info" and self._authorized():
                self._reply(
                    {
                        "code": 0,
                        "msg": "ok",
                        "bot": {"open_id": BOT_OPEN_ID, "app_name": BOT_NAME, "activate_status": 2},
                    }
                )
            elif urlparse(self.path).path.startswith("/open-apis/contact/v3/users/") and self._authorized():
                open_id = urlparse(self.path).path.rsplit("/", 1)[1]
                name = fake.names.get(open_id)
                self._reply({"code": 0, "msg": "ok", "data": {"user": {"open_id": open_id, "name": name}}}
                            if name else {"code": 41050, "msg": "no user authority"})
            elif not self.path.startswith("/open-apis/bot"):
                self._reply({"code": 404, "msg": "not found"}, 404)

        def do_POST(self):  # noqa: N802
            url = urlparse(self.path)
            path, query = url.path, parse_qs(url.query)
            if path == "/open-apis/im/v1/files":
                self._upload()
                return
            if path == "/open-apis/im/v1/images":
                self._upload_image()
                return
            body = self._body()
            if path == "/open-apis/auth/v3/tenant_access_token/internal":
                ok = body.get("app_id") == APP_ID and body.get("app_secret") == APP_SECRET
                self._reply(
                    {"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 7200}
                    if ok
                    else {"code": 10014, "msg": "app secret invalid"}
                )
            elif path == "/callback/ws/endpoint":
                with fake.lock:
                    fake.endpoint_calls += 1
                ok = body.get("AppID") == APP_ID and body.get("AppSecret") == APP_SECRET
                url = f"{fake.ws_url}?device_id=dev_{fake.endpoint_calls}&service_id={SERVICE_ID}"
                self._reply(
                    {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": fake.client_config}}
                    if ok
                    else {"code": 1000040351, "msg": "invalid app"}
                )
            elif path == "/open-apis/im/v1/messages" and self._authorized():
                rec = {
                    "receive_id_type": query.get("receive_id_type", [""])[0],
                    "receive_id": body.get("receive_id"),
                    "msg_type": body.get("msg_type"),
                    "content": json.loads(body.get("content") or "{}"),
                    "uuid": body.get("uuid"),
                    "at": time.monotonic(),
                }
                with fake.lock:
                    fake.attempts.append(rec)
                    fail = fake.fail_plan.popleft() if fake.fail_plan else None
                    same = [r for r in fake.sent if rec["uuid"] and r["uuid"] == rec["uuid"]]
                    if fail is None and same:       # Feishu: a repeated uuid is the message already sent
                        rec["message_id"] = same[0]["message_id"]
                    elif fail is None:
                        rec["message_id"] = f"om_{next(fake._ids)}"
                        fake.sent.append(rec)
                if fail is not None:
                    status, code, reset = fail
                    self._reply(
                        {"code": code, "msg": "request trigger frequency limit"},
                        status,
                        {"x-ogw-ratelimit-limit": "5", "x-ogw-ratelimit-reset": reset},
                    )
                else:
                    self._reply(
                        {
                            "code": 0,
                            "msg": "success",
                            "data": {
                                "message_id": rec["message_id"],
                                "chat_id": rec["receive_id"],
                                "msg_type": rec["msg_type"],
                                "create_time": str(wall_ms()),
                                "sender": {"id": "cli_test_app", "sender_type": "app"},
                            },
                        }
                    )
            elif (
                path.startswith("/open-apis/im/v1/messages/")
                and path.endswith("/reply")
                and self._authorized()
            ):
                with fake.lock:
                    fake.replies.append({"message_id": path.split("/")[-2], **body})
                self._reply({"code": 0, "msg": "success", "data": {"message_id": f"om_{next(fake._ids)}"}})
            else:
                self._reply({"code": 404, "msg": "not found"}, 404)

        def _upload(self):
            raw = self._raw()  # read before answering, whatever the answer
            if not self._authorized():
                return
            ctype = self.headers.get("Content-Type") or ""
            if not ctype.startswith("multipart/form-data"):
                self._reply({"code": 234001, "msg": "Invalid request param. (not multipart)"}, 400)
                return
            form = parse_multipart(raw, ctype)
            with fake.lock:
                fake.upload_attempts += 1
                fail = fake.upload_fail_plan.popleft() if fake.upload_fail_plan else fake.upload_fail_always
            if fail is not None:
                status, code = fail
                self._reply({"code": code, "msg": "upload refused by the fake"}, status)
                return
            missing = [k for k in ("file_type", "file_name", "file") if k not in form]
            if missing or not form["file"]["data"]:
                self._reply({"code": 234001, "msg": f"Invalid request param: {missing or 'empty file'}"}, 400)
                return
            rec = {
                "file_key": f"file_v3_{uuid.uuid4().hex[:20]}",
                "file_type": form["file_type"]["data"].decode(),
                "file_name": form["file_name"]["data"].decode(),
                "filename": form["file"]["filename"],  # the part's own filename
                "data": form["file"]["data"],
                "fields": sorted(form),
                "at": time.monotonic(),
            }
            with fake.lock:
                fake.uploads.append(rec)
            self._reply({"code": 0, "msg": "success", "data": {"file_key": rec["file_key"]}})

        def _upload_image(self):
            """POST /im/v1/images: multipart image_type=message + image; the same failure plan as files."""
            raw = self._raw()
            if not self._authorized():
                return
            ctype = self.headers.get("Content-Type") or ""
            form = parse_multipart(raw, ctype) if ctype.startswith("multipart/form-data") else {}
            with fake.lock:
                fake.upload_attempts += 1
                fail = fake.upload_fail_plan.popleft() if fake.upload_fail_plan else fake.upload_fail_always
            if fail is not None:
                self._reply({"code": fail[1], "msg": "upload refused by the fake"}, fail[0])
                return
            if form.get("image_type", {}).get("data") != b"message" or not form.get("image", {}).get("data"):
                self._reply({"code": 234001, "msg": "Invalid request param: image_type/image"}, 400)
                return
            rec = {"image_key": f"img_v3_{uuid.uuid4().hex[:20]}", "data": form["image"]["data"],
                   "fields": sorted(form), "at": time.monotonic()}
            with fake.lock:
                fake.images.append(rec)
            self._reply({"code": 0, "msg": "success", "data": {"image_key": rec["image_key"]}})

        def do_PATCH(self):  # noqa: N802
            path = urlparse(self.path).path
            body = self._body()
            if path.startswith("/open-apis/im/v1/messages/") and self._authorized():
                with fake.lock:
                    fake.patches.append({"message_id": path.rsplit("/", 1)[-1], **body})
                self._reply({"code": 0, "msg": "success", "data": {}})

    return Handler


# ---- event payloads, as Feishu sends them (schema 2.0) ----
def _header(event_type: str, event_id: str | None, token: str) -> dict:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "event_type": event_type,
        "token": token,
        "app_id": APP_ID,
        "create_time": str(wall_ms()),
        "tenant_key": "tk_test",
    }


def message_event(
    text: str,
    *,
    sender: str = "ou_lisi",
    chat_id: str = "oc_group",
    chat_type: str = "group",
    message_id: str | None = None,
    mentions: list[tuple[str, str, str]] = (),
    create_ms: int | None = None,
    message_type: str = "text",
    event_id: str | None = None,
    token: str = "",
) -> dict:
    """mentions: (key, open_id, name), e.g. ("@_user_1", "ou_bot", "接待助手")."""
    content = {"text": text} if message_type == "text" else {"image_key": "img_v2_x"}
    return {
        "schema": "2.0",
        "header": _header("im.message.receive_v1", event_id, token),
        "event": {
            "sender": {
                "sender_id": {"open_id": sender, "union_id": "on_" + sender, "user_id": None},
                "sender_type": "user",
                "tenant_key": "tk_test",
            },
            "message": {
                "message_id": message_id or f"om_{uuid.uuid4().hex[:16]}",
                "create_time": str(create_ms or wall_ms()),
                "chat_id": chat_id,
                "chat_type": chat_type,
                "message_type": message_type,
                "content": json.dumps(content, ensure_ascii=False),
                "mentions": [
                    {
                        "key": k,
                        "id": {"open_id": o, "union_id": "on_" + o, "user_id": None},
                        "name": n,
                        "tenant_key": "tk_test",
                    }
                    for k, o, n in mentions
                ],
            },
        },
    }


def card_event(
    cmd: str, *, operator: str, chat_id: str = "oc_group", event_id: str | None = None, token: str = ""
) -> dict:
    return {
        "schema": "2.0",
        "header": _header("card.action.trigger", event_id, token),
        "event": {
            "operator": {"tenant_key": "tk_test", "open_id": operator, "union_id": "on_" + operator},
            "token": "c-" + uuid.uuid4().hex,
            "host": "im_message",
            "delivery_type": "url_preview",
            "action": {"tag": "button", "value": {"cmd": cmd}},
            "context": {"open_message_id": "om_card", "open_chat_id": chat_id},
        },
    }


# ---- webhook crypto, as Feishu does it ----
def encrypt(payload: dict, encrypt_key: str) -> bytes:
    plain = json.dumps(payload, ensure_ascii=False).encode()
    pad = 16 - len(plain) % 16
    iv = os.urandom(16)
    cipher = AES.new(hashlib.sha256(encrypt_key.encode()).digest(), AES.MODE_CBC, iv)
    enc = base64.b64encode(iv + cipher.encrypt(plain + bytes([pad]) * pad)).decode()
    return json.dumps({"encrypt": enc}).encode()


def signed_headers(
    body: bytes, encrypt_key: str, *, timestamp: str | None = None, nonce: str = "n0nce"
) -> dict:
    ts = timestamp or str(wall_ms() // 1000)
    sig = hashlib.sha256((ts + nonce + encrypt_key).encode() + body).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": sig,
    }


# ---- a stand-in for the core ----
PROJECT = "阳光花园"
USERS = {"李四": "ou_lisi", "王五": "ou_wangwu", "张经理": "ou_manager"}


class RecordingBot:
    """A stand-in for the core: dedupes on event_id (as the core does), echoes, records every call."""

    def __init__(self, chats: list[str] | None = None):
        self.calls: list[Incoming] = []  # every handle() call, duplicates included
        self.handled: list[Incoming] = []  # the ones acted upon
        self._seen: set[str] = set()
        self._stored: set[str] = set()
        self.offered: list[Incoming] = []  # every accept() call: what the adapter stored before acknowledging
        self._chats = chats or ["oc_group"]
        self._lock = threading.Lock()

    def accept(self, msg: Incoming) -> bool:
        with self._lock:
            self.offered.append(msg)
            if msg.event_id in self._stored:
                return False
            self._stored.add(msg.event_id)
            return True

    def pending(self) -> list[Incoming]:
        return []

    def handle(self, msg: Incoming) -> list[Outgoing]:
        with self._lock:
            self.calls.append(msg)
            if msg.event_id in self._seen:
                return []
            self._seen.add(msg.event_id)
            self.handled.append(msg)
        key = f"r:{msg.event_id}"
        if msg.text == "boom":
            raise RuntimeError("boom: a bug in the core")
        if msg.text == "轮排":
            return [
                Outgoing(
                    "轮排\n1. 李四\n2. 王五\n下一位:李四",
                    mentions=("李四",),
                    project=PROJECT,
                    key=key,
                    card={
                        "title": "今日轮排",
                        "lines": ["1. 李四 空闲", "2. 王五 空闲", "下一位:李四"],
                        "buttons": ["接待", "送客"],
                    },
                )
            ]
        if msg.private and msg.sender_id not in USERS.values():  # the core answers unknown users by id
            return [Outgoing("发送 我是 姓名 登记你的名字。", to=msg.sender_id, key=key)]
        if msg.text == "我的客户" and not msg.private:
            return [Outgoing("你的客户:张三 138****5678", to="李四", project=PROJECT, key=key)]
        return [
            Outgoing(f"收到:{msg.text}\n下一位:王五", mentions=("王五", "路人甲"), project=PROJECT, key=key)
        ]

    def run_due(self, now):
        return []

    def mark_sent(self, keys, now):
        self.marked = [*getattr(self, "marked", []), *keys]

    def send_failed(self, keys, now):
        self.failed = [*getattr(self, "failed", []), *keys]

    def sent(self, keys):
        return set()

    def user_id(self, platform: str, project: str, name: str) -> str | None:
        assert platform == "feishu"
        return USERS.get(name) if project == PROJECT else None

    def chats(self, platform: str, project: str) -> list[str]:
        assert platform == "feishu"
        return list(self._chats) if project == PROJECT else []


def started_core(config, db_url: str):
    """The real core on the tests' wall clock, after what `run`'s first sweep does: what is due now
    (at 14:00 the day opens at once, at 03:00 it opens at 09:00), so a test's first command gets
    only its own answer at any hour."""
    from bot.bootstrap import bootstrap
    app = bootstrap(config, db_url=db_url, clock=WALL)
    app.mark_sent([o.key for o in app.run_due(WALL.now())], WALL.now())
    return CountingPort(app)


class CountingPort:
    """Delegates to the real App and records what each handle() returned."""

    def __init__(self, app):
        self.app, self.results, self._lock = app, [], threading.Lock()
        self.clock = app.clock          # the adapter handles events at the core's time
        self.accepted: list = []        # (msg, stored as new) for every delivery the adapter stored

    def handle(self, msg):
        outs = self.app.handle(msg)
        with self._lock:
            self.results.append((msg, list(outs)))
        return outs

    def accept(self, msg):
        new = self.app.accept(msg)
        with self._lock:
            self.accepted.append((msg, new))
        return new

    def pending(self):
        return self.app.pending()

    def run_due(self, now):
        return self.app.run_due(now)

    def mark_sent(self, keys, now):
        self.app.mark_sent(keys, now)

    def send_failed(self, keys, now):
        self.app.send_failed(keys, now)

    def sent(self, keys):
        return self.app.sent(keys)

    def user_id(self, platform, project, name):
        return self.app.user_id(platform, project, name)

    def chats(self, platform, project):
        return self.app.chats(platform, project)
