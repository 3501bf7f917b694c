"""The WeChat adapter end to end: real wechaty 0.10.7 client ↔ local fake puppet service, fake core."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC

import pytest

from bot.adapters.wechat.adapter import WechatSettings
from handlers.messages import Outgoing
from rules.texts import APOLOGY

from .conftest import BOT, LISI, PROJECT, ROOM, ZHANG, Harness, wait_until
from .fake_puppet import IMAGE


def test_room_command_with_mentions_end_to_end(run) -> None:
    async def scenario(h: Harness) -> None:
        text = "@接待助手\u2005到访 张三 13812345678 @小李\u2005"
        h.service.push_message("m-room-1", ZHANG, text, room=ROOM, mention_ids=(BOT, LISI))
        await wait_until(lambda: h.replies(ROOM), what="the room reply")
        [msg] = h.bot.received
        assert msg.platform == "wechat" and msg.chat_id == ROOM and not msg.private and msg.project is None
        assert (msg.sender_id, msg.sender_name) == (ZHANG, "张三")
        assert msg.event_id == "wechat:m-room-1"
        assert msg.text == "到访 张三 13812345678 @李四"  # bot mention stripped, room alias → contact name
        assert msg.at.tzinfo is not None and msg.at.astimezone(UTC).year >= 2024
        [reply] = h.replies(ROOM)
        assert reply.mention_ids == [LISI]
        assert reply.text.startswith("@李四") and "已登记。下一位:李四" in reply.text

    run(scenario)


def test_private_command_replies_privately_and_to_a_named_member(run) -> None:
    async def scenario(h: Harness) -> None:
        h.service.push_message("m-private-1", ZHANG, "我是 张三")
        await wait_until(lambda: len(h.replies(ZHANG)) == 3 and h.replies(LISI), what="the private replies")
        [msg] = h.bot.received
        assert msg.private and msg.chat_id is None and msg.text == "我是 张三" and msg.sender_id == ZHANG
        assert [s.text for s in h.replies(ZHANG)] == ["收到:我是 张三", "请先说 我是 姓名", "你好 张三"]
        assert [s.text for s in h.replies(LISI)] == ["张三 请你接待"]
        assert not h.replies(ROOM)

    run(scenario)


def test_duplicate_message_id_is_handled_once(run) -> None:
    async def scenario(h: Harness) -> None:
        from wechaty.utils.async_helper import SingleIdContainer

        h.service.push_message("m-dup-1", ZHANG, "到访 王五 13900000000", room=ROOM)
        await wait_until(lambda: h.replies(ROOM), what="first reply")
        h.service.push_message("m-dup-1", ZHANG, "到访 王五 13900000000", room=ROOM)  # the SDK drops it
        # a redelivery the SDK no longer remembers (as after a process restart) reaches the core,
        # which dedupes on Incoming.event_id
        SingleIdContainer._instance = None
        h.service.push_message("m-dup-1", ZHANG, "到访 王五 13900000000", room=ROOM)
        await wait_until(lambda: len(h.bot.received) == 2, what="the redelivery reaching the core")
        h.service.push_message("m-dup-2", ZHANG, "到访 赵六 13900000001", room=ROOM)  # a barrier
        await wait_until(lambda: len(h.replies(ROOM)) == 2, what="the barrier reply")
        assert [m.event_id for m in h.bot.received] == ["wechat:m-dup-1"] * 2 + ["wechat:m-dup-2"]
        assert ["王五" in s.text for s in h.replies(ROOM)] == [True, False]

    run(scenario)


def test_reconnects_after_a_service_restart(run, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(h: Harness) -> None:
        await h.service.stop()  # a crash: connections dropped
        await wait_until(lambda: not h.adapter.connected, what="the adapter noticing")
        def failure_logs() -> list[str]:
            return [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]

        # the dropped stream, then at least one refused reconnection attempt, each logged
        await wait_until(lambda: len(failure_logs()) >= 2, what="two logged failures")
        await h.service.start(h.service.port)
        await wait_until(lambda: h.adapter.connected and h.service.streams >= 2, what="reconnection")
        h.service.push_message("m-after-restart", ZHANG, "到访 孙七 13700000000", room=ROOM)
        await wait_until(lambda: h.replies(ROOM), what="a reply after the restart")
        assert h.bot.received[-1].event_id == "wechat:m-after-restart"
        failures = [r for r in caplog.records if r.name == "bot.adapters.wechat.adapter" and r.levelno >= logging.WARNING]
        assert failures and any(r.exc_info for r in failures)  # logged with a traceback, not swallowed

    run(scenario)


def test_non_text_message_is_ignored(run, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(h: Harness) -> None:
        h.service.push_message("m-image-1", ZHANG, "<img/>", room=ROOM, type=IMAGE)
        await wait_until(lambda: any("ignored message m-image-1" in r.getMessage() for r in caplog.records),
                         what="the image being ignored")
        h.service.push_message("m-text-1", ZHANG, "到访 周八 13600000000", room=ROOM)
        await wait_until(lambda: h.replies(ROOM), what="the text reply")
        assert [m.event_id for m in h.bot.received] == ["wechat:m-text-1"]
        assert len(h.service.sent) == 1

    run(scenario)


def test_handler_error_apologises_and_the_adapter_lives_on(run, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(h: Harness) -> None:
        h.service.push_message("m-boom", ZHANG, "boom", room=ROOM)
        await wait_until(lambda: h.replies(ROOM), what="the apology")
        assert [s.text for s in h.replies(ROOM)] == [APOLOGY]
        [record] = [r for r in caplog.records if "handler failed" in r.getMessage()]
        assert record.exc_info and "handler exploded" in str(record.exc_info[1])
        h.service.push_message("m-after-boom", ZHANG, "到访 吴九 13500000000", room=ROOM)
        await wait_until(lambda: len(h.replies(ROOM)) == 2, what="the next reply")

    run(scenario)


def test_send_from_a_scheduler_thread(run) -> None:
    async def scenario(h: Harness) -> None:
        msgs = [Outgoing(text="早会提醒", mentions=("李四", "不存在"), project=PROJECT, key="k1"),
                Outgoing(text="今天你值班", to="张三", project=PROJECT, key="k2")]
        await asyncio.to_thread(h.adapter.send, msgs)  # blocks its thread until delivered
        [group] = h.replies(ROOM)
        assert group.mention_ids == [LISI] and group.text.endswith("早会提醒")
        assert [s.text for s in h.replies(ZHANG)] == ["今天你值班"]
        with pytest.raises(RuntimeError):  # not from the adapter's own loop thread
            h.adapter.send(msgs)

    run(scenario)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN", raising=False)
    with pytest.raises(ValueError, match="WECHATY_PUPPET_SERVICE_ENDPOINT"):
        WechatSettings.from_env(None)
    s = WechatSettings.from_env({"endpoint": "10.0.0.2:8788", "token": "t1", "retry_max": 30})
    assert (s.endpoint, s.token, s.retry_max) == ("10.0.0.2:8788", "t1", 30.0)
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "gw:9001")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "insecure_x")
    s = WechatSettings.from_env({"endpoint": "ignored:1"})
    assert (s.endpoint, s.token) == ("gw:9001", "insecure_x")


def test_unresolvable_mention_keeps_the_message(run, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(h: Harness) -> None:
        h.service.push_message("m-ghost", ZHANG, "到访 郑十 13400000000 @路人\u2005", room=ROOM,
                               mention_ids=("wxid_ghost",))  # ContactPayload answers NOT_FOUND
        await wait_until(lambda: h.replies(ROOM), what="the reply")
        assert [m.text for m in h.bot.received] == ["到访 郑十 13400000000 @路人"]
        assert any("left as written" in r.getMessage() for r in caplog.records)

    run(scenario)


def test_a_message_is_handled_at_its_arrival_its_own_timestamp_kept_apart(run) -> None:
    """Issue 11 §3: the time the puppet service stamps on a message is not trusted as the time of
    the command (a message dated 2036 runs now); it is kept in `sent_at` for the age check only."""
    from datetime import datetime

    from bot.clock import FakeClock

    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    async def scenario(h: Harness) -> None:
        h.adapter.clock = FakeClock(now)
        future = datetime(2036, 11, 27, tzinfo=UTC).timestamp()
        h.service.push_message("m-future", ZHANG, "轮排", room=ROOM, timestamp=future)
        await wait_until(lambda: h.bot.received, what="the message")
        [msg] = h.bot.received
        assert msg.at == now and msg.sent_at == datetime(2036, 11, 27, tzinfo=UTC)

    run(scenario)


def test_replies_are_marked_sent_and_a_key_already_marked_sent_is_not_sent_again(run) -> None:
    """WeChat has no idempotency key: the adapter skips an outbox key already marked sent (a second
    process sent it) and marks what it delivered, so the sweep does not send it again."""
    async def scenario(h: Harness) -> None:
        def reply(msg):
            return [Outgoing(text="已发出过", project=PROJECT, key="k-done"),
                    Outgoing(text=f"新回复 {msg.text}", project=PROJECT, key="k-new")]

        h.bot.script, h.bot.already = reply, {"k-done"}
        h.service.push_message("m-mark-1", ZHANG, "轮排", room=ROOM)
        await wait_until(lambda: h.bot.marked, what="the reply marked sent")
        assert [s.text for s in h.replies(ROOM)] == ["新回复 轮排"]
        assert h.bot.marked == ["k-done", "k-new"] and h.bot.failed == []

    run(scenario)


def test_messages_are_handled_in_arrival_order_off_the_event_loop(run) -> None:
    """The core may keep a message waiting (a busy database): the next one waits its turn, and the
    adapter's event loop stays free meanwhile (the puppet keeps being read)."""
    import threading
    import time

    loop_threads: set[int] = set()

    async def scenario(h: Harness) -> None:
        loop_threads.add(threading.get_ident())
        script = h.bot.default_script

        def slow_first(msg):
            if msg.event_id == "wechat:m-order-1":
                time.sleep(0.5)             # blocks this worker thread, not the loop
            h.bot.threads.add(threading.get_ident())
            return script(msg)

        h.bot.script, h.bot.threads = slow_first, set()
        for i in (1, 2, 3):
            h.service.push_message(f"m-order-{i}", ZHANG, f"签到 {i}", room=ROOM)
        await wait_until(lambda: len(h.replies(ROOM)) == 3, what="three replies")
        assert [m.event_id for m in h.bot.handled] == ["wechat:m-order-1", "wechat:m-order-2", "wechat:m-order-3"]
        assert ["签到 1" in r.text for r in h.replies(ROOM)] == [True, False, False]
        assert not h.bot.threads & loop_threads

    run(scenario)
