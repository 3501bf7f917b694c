"""A local WeCom long-connection server speaking the intelligent bot's frames (developer doc 101463),
for the real client and adapter to connect to through `ws_url`.

It answers aibot_subscribe (checking the bot id and secret), ping, aibot_respond_msg, aibot_send_msg
and the three media-upload frames; pushes aibot_msg_callback / aibot_event_callback frames; and,
like WeCom, a new subscription pushes the older connection out with `disconnected_event`.
`shown` is what members see: a respond with a req_id and stream id already shown updates that
message (it is not shown again), as WeCom does with a stream."""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

import websockets

from tests.waits import patience

BOT_ID, SECRET = "aib_test_bot", "s3cret"
_ids = itertools.count(1)


def wait_for(cond, timeout: float = 10.0, what: str = "condition"):
    end = time.monotonic() + patience(timeout)
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def text_callback(text: str, userid: str, chatid: str | None = None, msgid: str | None = None,
                  req_id: str | None = None) -> dict:
    body = {"msgid": msgid or f"msg{next(_ids)}", "aibotid": BOT_ID, "chattype": "group" if chatid else "single",
            "from": {"userid": userid}, "msgtype": "text", "text": {"content": text}}
    if chatid:
        body["chatid"] = chatid
    return {"cmd": "aibot_msg_callback", "headers": {"req_id": req_id or f"req{next(_ids)}"}, "body": body}


def card_click(key: str, userid: str, chatid: str | None = None, msgid: str | None = None) -> dict:
    body = {"msgid": msgid or f"evt{next(_ids)}", "aibotid": BOT_ID, "chattype": "group" if chatid else "single",
            "from": {"userid": userid}, "msgtype": "event",
            "event": {"eventtype": "template_card_event",
                      "template_card_event": {"card_type": "button_interaction", "event_key": key, "task_id": "t1"}}}
    if chatid:
        body["chatid"] = chatid
    return {"cmd": "aibot_event_callback", "headers": {"req_id": f"req{next(_ids)}"}, "body": body}


class FakeWecom:
    def __init__(self):
        self.lock = threading.Lock()
        self.frames: list[dict] = []            # every frame received, in order
        self.shown: list[dict] = []             # {"to", "req_id", "body"}: what members see
        self.subscribes = 0
        self.silent = False                     # True: answer nothing at all (a dead line)
        self.drop_on: str | None = None         # record the next frame of this cmd, then drop without answering
        self._conns: list = []
        self._stream_shown: set[tuple[str, str]] = set()
        self._callbacks: dict[str, dict] = {}   # req_id → the callback it came with
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        started.wait(10)
        self.url = f"ws://127.0.0.1:{self.port}"

    def _serve(self, started):
        asyncio.set_event_loop(self._loop)

        async def main():
            self._server = await websockets.serve(self._handler, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            await self._server.serve_forever()
        try:
            self._loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass

    async def _handler(self, ws):
        async for raw in ws:
            f = json.loads(raw)
            with self.lock:
                self.frames.append(f)
            if self.silent:
                continue
            if self.drop_on and f.get("cmd") == self.drop_on:
                self.drop_on = None
                self._show(f)
                await ws.close()
                return
            answer = await self._answer(ws, f)
            if answer is not None:
                await ws.send(json.dumps(answer, ensure_ascii=False))

    async def _answer(self, ws, f: dict) -> dict | None:
        cmd, rid, body = f.get("cmd"), f["headers"]["req_id"], f.get("body") or {}
        ok = {"headers": {"req_id": rid}, "errcode": 0, "errmsg": "ok"}
        if cmd == "aibot_subscribe":
            if body.get("bot_id") != BOT_ID or body.get("secret") != SECRET:
                return {**ok, "errcode": 40058, "errmsg": "invalid bot_id or secret"}
            await self._take_over(ws)
            return ok
        if cmd in ("aibot_respond_msg", "aibot_send_msg"):
            self._show(f)
            return ok
        if cmd == "aibot_upload_media_init":
            return {**ok, "body": {"upload_id": "up1"}}
        if cmd == "aibot_upload_media_finish":
            return {**ok, "body": {"media_id": "media1", "type": "file"}}
        return ok                       # ping, upload chunks

    async def _take_over(self, ws):
        """A new subscription pushes every older connection out (disconnected_event, then closed)."""
        with self.lock:
            self.subscribes += 1
            old, self._conns = self._conns, [ws]
        for o in old:
            event = {"cmd": "aibot_event_callback", "headers": {"req_id": f"req{next(_ids)}"},
                     "body": {"msgid": f"evt{next(_ids)}", "aibotid": BOT_ID, "msgtype": "event",
                              "event": {"eventtype": "disconnected_event"}}}
            try:
                await o.send(json.dumps(event))
                await o.close()
            except websockets.WebSocketException:
                pass

    def _show(self, f: dict) -> None:
        body, rid = dict(f.get("body") or {}), f["headers"]["req_id"]
        if f["cmd"] == "aibot_respond_msg":
            cb = self._callbacks.get(rid, {}).get("body", {})
            to = cb.get("chatid") or (cb.get("from") or {}).get("userid")
            sid = (body.get("stream") or {}).get("id")
            if sid and (rid, sid) in self._stream_shown:
                return                  # the same stream again: WeCom updates the message, it is not shown twice
            self._stream_shown.add((rid, sid))
        else:
            to = body.pop("chatid", None)
        with self.lock:
            self.shown.append({"to": to, "req_id": rid, "cmd": f["cmd"], "body": body})

    # ---- driving it from the test's thread ----
    def push(self, frame: dict) -> None:
        self._callbacks[frame["headers"]["req_id"]] = frame
        asyncio.run_coroutine_threadsafe(self._push(frame), self._loop).result(10)

    async def _push(self, frame: dict) -> None:
        conn = self._conns[-1] if self._conns else None
        assert conn is not None, "no connection to push to"
        await conn.send(json.dumps(frame, ensure_ascii=False))

    def drop(self) -> None:
        """Close the current connection from the server's side."""
        async def close():
            for c in list(self._conns):
                await c.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)

    def wait_subscribed(self, n: int = 1, timeout: float = 10.0) -> None:
        wait_for(lambda: self.subscribes >= n and self._conns, timeout, f"{n} subscription(s)")

    def texts(self, to: str | None = None) -> list[str]:
        with self.lock:
            return [text_of(s["body"]) for s in self.shown if to is None or s["to"] == to]

    def close(self) -> None:
        def stop():
            self._server.close()
        self._loop.call_soon_threadsafe(stop)


def text_of(body: dict) -> str:
    """What a member reads in a shown message (the full-width ＊ is how the bot writes a masked *)."""
    kind = body.get("msgtype")
    if kind == "stream":
        text = body["stream"]["content"]
    elif kind == "markdown":
        text = body["markdown"]["content"]
    elif kind == "template_card":
        text = body["template_card"].get("sub_title_text", "")
    else:
        text = f"[{kind}]"
    return text.replace("＊", "*")
