"""One process holds a WeCom bot's connection (a new connection pushes the old one out)."""
from __future__ import annotations

import asyncio
import json
import logging

import websockets

from bot.adapters.wecom import adapter as wecom_adapter
from bot.adapters.wecom.client import Timing
from bot.adapters.wecom.holder import Holder
from tests.integration.wecom.wecom_fake import BOT_ID, SECRET, wait_for


def test_a_second_process_waits_for_the_bot_and_says_why_in_one_line(fake, office, start, monkeypatch, caplog):
    monkeypatch.setattr(wecom_adapter, "HOLD_RETRY_S", 0.1)
    first = start(office)
    fake.wait_subscribed()
    with caplog.at_level(logging.WARNING, logger="bot.adapters.wecom.adapter"):
        second = start(office)                  # same database: same holder
        wait_for(lambda: caplog.records, what="the waiting line")
        asyncio.run(asyncio.sleep(0.5))          # it keeps asking …
    assert fake.subscribes == 1 and not second.holding and second.last_frame_at is None
    lines = [r.getMessage() for r in caplog.records if "held by another process" in r.getMessage()]
    assert len(lines) == 1 and "file lock" in lines[0], lines          # … and says so once
    first.stop()
    fake.wait_subscribed(2)                     # the first one gone, the second takes over
    assert second.holding and wait_for(lambda: second.connected, what="the second connected")


def test_the_postgresql_holder_is_an_advisory_lock_one_session_at_a_time(pg_url):
    from storage.db import make_engine
    engine = make_engine(pg_url)
    a, b = Holder(engine, BOT_ID), Holder(engine, BOT_ID)
    assert a.take() and not b.take() and "advisory lock" in b.where
    a.release()
    assert b.take()
    b.release()
    engine.dispose()


def test_pushed_out_by_another_connection_the_adapter_logs_it_and_does_not_fight_back(fake, office, start, caplog):
    adapter = start(office, timing=Timing(heartbeat=1.0, dead_after=5.0, retry_min=0.05, retry_max=0.2,
                                          takeover_pause=600.0))
    fake.wait_subscribed()

    async def intruder():                       # another process elsewhere, with the same bot id
        async with websockets.connect(fake.url) as ws:
            await ws.send(json.dumps({"cmd": "aibot_subscribe", "headers": {"req_id": "aibot_subscribe_x"},
                                      "body": {"bot_id": BOT_ID, "secret": SECRET}}))
            await ws.recv()
            await asyncio.sleep(1.0)            # while it holds the line, the adapter stays away
    with caplog.at_level(logging.ERROR, logger="bot.adapters.wecom.client"):
        asyncio.run(intruder())
    assert fake.subscribes == 2 and not adapter.connected and adapter.client.displaced == 1
    assert [r for r in caplog.records if "took over" in r.getMessage()]


def test_the_file_holder_is_per_bot_and_released_when_its_descriptor_closes(tmp_path):
    from storage.db import make_engine
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    a, b, other = Holder(engine, BOT_ID), Holder(engine, BOT_ID), Holder(engine, "another_bot")
    assert a.take() and a.take() and not b.take() and other.take()
    a.release()
    assert b.take()
    b.release()
    other.release()
