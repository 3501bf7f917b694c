"""The WeCom intelligent bot's long-connection frames (developer doc 101463), built and read.

Pure formatting, no sockets. Every frame is JSON `{cmd, headers: {req_id}, body}`; the server
answers a request with `{headers: {req_id}, errcode, errmsg[, body]}` under the same req_id.

    aibot_subscribe      → {bot_id, secret}                  (first frame of a connection)
    ping                 → (no body), every HEARTBEAT_S      (the answer is a heartbeat too)
    aibot_msg_callback   ← {msgid, chatid, chattype: single|group, from: {userid}, msgtype, text: {content}}
    aibot_event_callback ← {msgid, …, msgtype: event, event: {eventtype, template_card_event: {event_key}}}
    aibot_respond_msg    → the answer to one callback, quoting its req_id (a `stream` message:
                           the same stream id twice updates one message, it is never shown twice)
    aibot_send_msg       → {chatid (a group's chatid, or a user's userid), msgtype, …}
    aibot_upload_media_init / _chunk / _finish → a temporary `media_id` for a file message
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

SUBSCRIBE, PING = "aibot_subscribe", "ping"
MSG_CALLBACK, EVENT_CALLBACK = "aibot_msg_callback", "aibot_event_callback"
RESPOND, SEND = "aibot_respond_msg", "aibot_send_msg"
UPLOAD_INIT, UPLOAD_CHUNK, UPLOAD_FINISH = "aibot_upload_media_init", "aibot_upload_media_chunk", "aibot_upload_media_finish"
DISCONNECTED = "disconnected_event"
CARD_EVENT = "template_card_event"
CHUNK_BYTES = 512 * 1024            # one upload chunk before base64 (at most 100 chunks: ~50 MB)
MAX_CHUNKS = 100


def req_id(prefix: str) -> str:
    """A fresh request id; the server's answer carries it back."""
    return f"{prefix}_{secrets.token_hex(8)}"


def frame(cmd: str, rid: str, body: dict | None = None) -> str:
    f: dict = {"cmd": cmd, "headers": {"req_id": rid}}
    if body is not None:
        f["body"] = body
    return json.dumps(f, ensure_ascii=False)


def subscribe(bot_id: str, secret: str) -> str:
    return frame(SUBSCRIBE, req_id(SUBSCRIBE), {"bot_id": bot_id, "secret": secret})


def ping() -> str:
    return frame(PING, req_id(PING))


def stream_id(key: str) -> str:
    """The stream id of an outbox message: the same key, the same id (a retry updates, never repeats)."""
    return "s" + hashlib.sha256(key.encode()).hexdigest()[:31]


def text_body(text: str, key: str) -> dict:
    """A reply's body: one finished `stream` message (markdown) named after the outbox key."""
    return {"msgtype": "stream", "stream": {"id": stream_id(key), "finish": True, "content": text}}


def markdown_body(text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": text}}


def card_body(card: dict, text: str, key: str) -> dict:
    """The queue board as a `button_interaction` template card; a button's key is its command."""
    buttons = []
    for b in card.get("buttons") or ["接待", "送客"]:
        label, cmd = (b, b) if isinstance(b, str) else (b.get("label") or b["cmd"], b["cmd"])
        buttons.append({"text": label[:10], "style": 1 if not buttons else 2, "key": cmd})
    lines = card.get("lines") or [card.get("markdown") or text]
    return {"msgtype": "template_card", "template_card": {
        "card_type": "button_interaction", "task_id": stream_id(key)[:32],
        "main_title": {"title": card.get("title", "轮排")[:26]},
        "sub_title_text": "\n".join(lines)[:1000], "button_list": buttons[:6]}}


def media_body(kind: str, media_id: str) -> dict:
    return {"msgtype": kind, kind: {"media_id": media_id}}


def chunks(data: bytes) -> list[str]:
    """The base64 chunks of a file for aibot_upload_media_chunk (ValueError: too big or empty)."""
    parts = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
    if not parts or len(parts) > MAX_CHUNKS:
        raise ValueError(f"{len(data)} bytes cannot be uploaded (1 byte to {MAX_CHUNKS * CHUNK_BYTES})")
    return [base64.b64encode(p).decode() for p in parts]


def upload_init(kind: str, filename: str, data: bytes, n: int) -> dict:
    return {"type": kind, "filename": filename, "total_size": len(data), "total_chunks": n,
            "md5": hashlib.md5(data).hexdigest()}


@dataclass(frozen=True)
class Callback:
    """One message or card click from WeCom, as the adapter needs it."""

    req_id: str
    msgid: str
    userid: str
    chatid: str | None          # None: a private (single) chat
    text: str
    card_click: bool = False


def read(raw: str | bytes) -> dict | None:
    """A frame as a dict (None: not JSON or not an object)."""
    try:
        f = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return f if isinstance(f, dict) else None


def callback(f: dict) -> Callback | None:
    """A text message or a template-card click; None for anything else (images, enter_chat …)."""
    body, rid = f.get("body") or {}, (f.get("headers") or {}).get("req_id", "")
    user = (body.get("from") or {}).get("userid")
    if not isinstance(body, dict) or not user or not body.get("msgid"):
        return None
    chat = body.get("chatid") if body.get("chattype") == "group" else None
    if f.get("cmd") == MSG_CALLBACK and body.get("msgtype") == "text":
        return Callback(rid, str(body["msgid"]), str(user), chat, str((body.get("text") or {}).get("content", "")))
    event = body.get("event") or {}
    if f.get("cmd") == EVENT_CALLBACK and event.get("eventtype") == CARD_EVENT:
        key = (event.get(CARD_EVENT) or {}).get("event_key") or event.get("event_key")
        return Callback(rid, str(body["msgid"]), str(user), chat, str(key), card_click=True) if key else None
    return None


def is_disconnected(f: dict) -> bool:
    """`disconnected_event`: another connection of this bot took over; this one is closed by the server."""
    return f.get("cmd") == EVENT_CALLBACK and ((f.get("body") or {}).get("event") or {}).get("eventtype") == DISCONNECTED
