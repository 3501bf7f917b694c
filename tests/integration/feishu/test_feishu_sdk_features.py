"""The measures of bot/adapters/feishu/sdk_compat.py detect what the installed lark-oapi has instead of
assuming it (issue 21 item 2); `make canary` runs these against the newest lark-oapi."""
from __future__ import annotations

import asyncio
import json

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from feishu_fake import APP_ID, APP_SECRET
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

from bot.adapters.feishu import sdk_compat


def test_the_detected_features_are_what_the_sdk_has():
    f = sdk_compat.detect()
    assert f["module_loop"] == isinstance(getattr(lark_ws_client, "loop", None), asyncio.AbstractEventLoop)
    assert f["client_stop"] == callable(getattr(lark.ws.Client, "stop", None))
    assert f["frame_hook"] == asyncio.iscoroutinefunction(getattr(lark.ws.Client, "_handle_message", None))
    client = lark.ws.Client(APP_ID, APP_SECRET)
    assert f["private_conn"] == (hasattr(client, "_conn") and hasattr(client, "_auto_reconnect"))
    assert f["reconnect_hook"] == callable(getattr(client, "on_reconnected", None))


def test_use_loop_sets_the_module_loop_only_where_the_sdk_keeps_one():
    loop = asyncio.new_event_loop()
    before = getattr(lark_ws_client, "loop", None)
    try:
        assert sdk_compat.use_loop(loop) == sdk_compat.FEATURES["module_loop"]
        if sdk_compat.FEATURES["module_loop"]:
            assert lark_ws_client.loop is loop
        else:
            assert getattr(lark_ws_client, "loop", None) is before
    finally:
        if sdk_compat.FEATURES["module_loop"]:
            lark_ws_client.loop = before
        loop.close()


def test_every_frame_the_client_receives_is_seen_before_the_sdk_handles_it():
    client = lark.ws.Client(APP_ID, APP_SECRET)
    seen: list[int] = []
    hooked = sdk_compat.observe_frames(client, lambda: seen.append(1))
    assert hooked == sdk_compat.FEATURES["frame_hook"]
    if not hooked:
        return
    pong = Frame(SeqID=0, LogID=0, service=1, method=0,
                 payload=json.dumps({"PingInterval": 120, "ReconnectCount": -1, "ReconnectInterval": 1,
                                     "ReconnectNonce": 0}).encode())
    pong.headers.add(key="type", value="pong")
    asyncio.run(client._handle_message(pong.SerializeToString()))
    assert seen == [1]


def test_a_client_that_never_connected_is_not_connected():
    client = lark.ws.Client(APP_ID, APP_SECRET)
    assert sdk_compat.is_connected(client) is (not sdk_compat.FEATURES["private_conn"])
