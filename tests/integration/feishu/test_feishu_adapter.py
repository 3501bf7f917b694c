"""The Feishu adapter against a local fake Feishu server, through the real lark-oapi SDK (offline)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import requests
from feishu_fake import (
    BOT_NAME,
    BOT_OPEN_ID,
    PROJECT,
    RecordingBot,
    card_event,
    encrypt,
    message_event,
    signed_headers,
    wait_for,
)

from bot.adapters.feishu.adapter import FeishuSettings
from bot.adapters.feishu.sender import feishu_uuid
from bot.config import ConfigError
from handlers.messages import Outgoing
from rules.texts import APOLOGY
from tests.clock import WALL
from tests.waits import patience

BOT_MENTION = ("@_user_1", BOT_OPEN_ID, BOT_NAME)


def ws_adapter(fake, start_adapter, bot):
    adapter = start_adapter(bot)
    fake.wait_connected()
    return adapter


def test_group_command_end_to_end(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    created = 1_795_750_000_123
    frame = fake.push(message_event("到访 张三 13812345678", message_id="om_visit", create_ms=created))

    wait_for(lambda: fake.sent_to("oc_group"), what="the group reply")
    [msg] = recording_bot.handled
    assert msg.platform == "feishu" and msg.sender_id == "ou_lisi" and msg.text == "到访 张三 13812345678"
    assert (
        msg.chat_id == "oc_group" and msg.private is False and msg.project is None and msg.sender_name is None
    )
    assert msg.event_id == "feishu:om_visit"
    # handled at the time it arrived; the event's own time only decides whether it is too old
    assert msg.sent_at == datetime.fromtimestamp(created / 1000, tz=UTC)
    assert msg.at.tzinfo is not None and abs((msg.at - WALL.now()).total_seconds()) < patience(60)
    [sent] = fake.sent_to("oc_group")
    assert sent["receive_id_type"] == "chat_id" and sent["msg_type"] == "text"
    assert sent["content"]["text"].startswith("收到:到访 张三 13812345678\n下一位:")
    assert sent["uuid"] == "r:feishu:om_visit"
    ack = wait_for(lambda: fake.acks.get(frame), what="the ack")
    assert ack["code"] == 200
    assert fake.pings >= 1  # the SDK pings on connect; the fake answers with a pong + ClientConfig


def test_non_text_message_ignored(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    img = fake.push(message_event("", message_type="image"))
    fake.push(message_event("签到", message_id="om_after"))
    wait_for(lambda: fake.sent_to("oc_group"), what="the reply to 签到")
    assert [m.text for m in recording_bot.calls] == ["签到"]
    assert fake.acks[img]["code"] == 200


def test_mentions_both_ways(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    fake.push(
        message_event(
            "@_user_1 /跳过 @_user_2 迟到 @_user_10",
            sender="ou_manager",
            mentions=[BOT_MENTION, ("@_user_2", "ou_wangwu", "王五"), ("@_user_10", "ou_zhao", "赵六")],
        )
    )
    wait_for(lambda: fake.sent_to("oc_group"), what="the reply")
    assert recording_bot.handled[0].text == "/跳过 @王五 迟到 @赵六"
    [text] = fake.texts_to("oc_group")
    # the reply's mention of 王五 (the trailing "下一位:王五") becomes an at tag; unknown 路人甲 is skipped
    assert text.endswith('下一位:<at user_id="ou_wangwu"></at>')
    assert text.count("<at ") == 1


def test_private_command_and_private_reply(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    fake.push(message_event("我的客户", chat_id="oc_p2p_lisi", chat_type="p2p", message_id="om_p1"))
    wait_for(lambda: fake.sent_to("ou_lisi"), what="the private reply")
    msg = recording_bot.handled[0]
    assert msg.private is True and msg.chat_id is None and msg.event_id == "feishu:om_p1"
    [sent] = fake.sent_to("ou_lisi")
    assert sent["receive_id_type"] == "open_id"
    # a group command whose answer goes to a member privately (Outgoing.to = name → open_id)
    fake.push(message_event("我的客户", sender="ou_lisi", message_id="om_g1"))
    wait_for(lambda: len(fake.sent_to("ou_lisi")) == 2, what="the second private message")
    assert fake.sent_to("ou_lisi")[1]["content"]["text"] == "你的客户:张三 138****5678"
    assert fake.sent_to("oc_group") == []
    # someone the core does not know yet: Outgoing.to is their open_id
    fake.push(message_event("你好", sender="ou_stranger", chat_id="oc_p2p_x", chat_type="p2p"))
    [hint] = wait_for(lambda: fake.sent_to("ou_stranger"), what="the answer to a stranger")
    assert hint["receive_id_type"] == "open_id" and "我是" in hint["content"]["text"]


def test_duplicate_delivery_handled_once(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    event = message_event("接待", message_id="om_dup")
    fake.push(event)
    fake.push(event)  # Feishu re-delivers with the same event and message ids
    fake.push(message_event("签到", message_id="om_barrier"))
    wait_for(lambda: any("签到" in t for t in fake.texts_to("oc_group")), what="the barrier reply")
    assert [m.event_id for m in recording_bot.offered] == ["feishu:om_dup", "feishu:om_dup", "feishu:om_barrier"]
    assert [m.event_id for m in recording_bot.calls] == ["feishu:om_dup", "feishu:om_barrier"]  # stored once, handled once
    assert [t.split("\n")[0] for t in fake.texts_to("oc_group")] == ["收到:接待", "收到:签到"]


def test_event_split_into_chunks(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    long_note = "备注" + "很长" * 400
    frame = fake.push(message_event(f"跟进 13812345678 {long_note}", message_id="om_long"), chunks=3)
    wait_for(lambda: fake.sent_to("oc_group"), what="the reply to the chunked event")
    assert recording_bot.handled[0].text == f"跟进 13812345678 {long_note}"
    assert wait_for(lambda: fake.acks.get(frame))["code"] == 200


def test_handler_error_apologises_and_connection_lives(fake, start_adapter, recording_bot, caplog):
    ws_adapter(fake, start_adapter, recording_bot)
    with caplog.at_level(logging.ERROR, logger="bot.adapters.feishu.adapter"):
        frame = fake.push(message_event("boom", message_id="om_boom"))
        wait_for(lambda: fake.sent_to("oc_group"), what="the apology")
    assert fake.texts_to("oc_group") == [APOLOGY]
    assert any(r.exc_info and "om_boom" in r.getMessage() for r in caplog.records)
    assert wait_for(lambda: fake.acks.get(frame))["code"] == 200  # acked at once, not re-sent
    fake.push(message_event("签到", message_id="om_next"))
    wait_for(lambda: len(fake.sent_to("oc_group")) == 2, what="the next reply")
    assert fake.connections == 1


def test_reconnect_after_the_server_drops(fake, start_adapter, recording_bot):
    from bot import metrics
    from bot.adapters.feishu import sdk_compat

    def sdk_reconnects():
        return metrics.REGISTRY.get_sample_value("reception_platform_reconnects_total",
                                                 {"platform": "feishu", "reason": "sdk"}) or 0
    ws_adapter(fake, start_adapter, recording_bot)
    before = sdk_reconnects()
    fake.drop_connection()
    fake.wait_connected(count=2, timeout=15)
    assert fake.endpoint_calls >= 2
    if sdk_compat.FEATURES["reconnect_hook"]:                   # counted on /metrics (issue 21)
        wait_for(lambda: sdk_reconnects() == before + 1, what="the reconnect counted")
    fake.push(message_event("签到", message_id="om_after_reconnect"))
    wait_for(lambda: fake.sent_to("oc_group"), what="the reply after reconnecting")
    assert recording_bot.handled[0].event_id == "feishu:om_after_reconnect"


def test_card_board_and_button_press(fake, start_adapter, recording_bot):
    ws_adapter(fake, start_adapter, recording_bot)
    fake.push(message_event("轮排", message_id="om_board"))
    [card_msg] = wait_for(lambda: fake.sent_to("oc_group"), what="the board card")
    assert card_msg["msg_type"] == "interactive"
    card = card_msg["content"]
    assert card["header"]["title"]["content"] == "今日轮排"
    body = json.dumps(card, ensure_ascii=False)
    assert (
        "王五 空闲" in body and body.count("<at id=ou_lisi></at>") == 1 and "下一位:<at id=ou_lisi>" in body
    )
    [actions] = [e["actions"] for e in card["elements"] if e["tag"] == "action"]
    assert [(a["text"]["content"], a["value"]) for a in actions] == [
        ("接待", {"cmd": "接待"}),
        ("送客", {"cmd": "送客"}),
    ]

    frame = fake.push(card_event(actions[0]["value"]["cmd"], operator="ou_wangwu", event_id="ev_press"))
    wait_for(lambda: len(fake.sent_to("oc_group")) == 2, what="the reply to the button")
    press = recording_bot.handled[1]
    assert (press.text, press.sender_id, press.chat_id, press.private) == (
        "接待",
        "ou_wangwu",
        "oc_group",
        False,
    )
    assert press.event_id == "feishu:ev_press" and press.at.tzinfo is not None
    ack = wait_for(lambda: fake.acks.get(frame))
    assert ack["code"] == 200 and ack["data"]["toast"]["content"]
    # the same press delivered again → handled once
    fake.push(card_event("接待", operator="ou_wangwu", event_id="ev_press"))
    fake.push(message_event("签到", message_id="om_barrier"))
    wait_for(lambda: len(fake.sent_to("oc_group")) == 3, what="the barrier reply")
    assert [m.event_id for m in recording_bot.offered].count("feishu:ev_press") == 2
    assert [m.event_id for m in recording_bot.calls].count("feishu:ev_press") == 1
    assert fake.texts_to("oc_group")[2].startswith("收到:签到")


def test_rate_limits_are_retried_not_dropped(fake, start_adapter, recording_bot):
    adapter = ws_adapter(fake, start_adapter, recording_bot)
    fake.fail_plan.extend([(429, 99991400, "0"), (400, 99991400, "1"), (200, 99991400, "0")])
    adapter.send(
        [Outgoing("日报:今日接待 3 组", project=PROJECT, key="daily:2026-11-27")], chat_id="oc_group"
    )
    [sent] = wait_for(lambda: fake.sent_to("oc_group"), timeout=15, what="the message after rate limits")
    assert sent["content"]["text"] == "日报:今日接待 3 组"
    assert [a["uuid"] for a in fake.attempts] == ["daily:2026-11-27"] * 4  # same uuid: idempotent retries
    assert fake.attempts[2]["at"] - fake.attempts[1]["at"] >= 0.9  # waited for x-ogw-ratelimit-reset


def test_at_most_five_messages_per_second_per_group(fake, start_adapter, recording_bot):
    adapter = ws_adapter(fake, start_adapter, recording_bot)
    adapter.send(
        [Outgoing(f"第{i}条", project=PROJECT, key=f"burst:{i}") for i in range(7)], chat_id="oc_group"
    )
    sent = wait_for(
        lambda: len(fake.sent_to("oc_group")) == 7 and fake.sent_to("oc_group"), what="7 messages"
    )
    assert [m["content"]["text"] for m in sent] == [f"第{i}条" for i in range(7)]
    times = [m["at"] for m in sent]
    assert all(times[i + 5] - times[i] >= 0.95 for i in range(len(times) - 5))


def test_scheduled_message_goes_to_every_bound_chat(fake, start_adapter):
    bot = RecordingBot(chats=["oc_a", "oc_b"])
    adapter = ws_adapter(fake, start_adapter, bot)
    long_key = "followup-reminder:" + "x" * 60
    adapter.send(
        [
            Outgoing("提醒:张三 明天到期\n下一位:王五", mentions=("王五",), project=PROJECT, key=long_key),
            Outgoing("没有绑定群的项目", project="别的项目", key="k"),
        ]
    )
    wait_for(lambda: fake.sent_to("oc_a") and fake.sent_to("oc_b"), what="both chats")
    uuids = {fake.sent_to(c)[0]["uuid"] for c in ("oc_a", "oc_b")}
    assert len(uuids) == 2 and all(len(u) <= 50 for u in uuids)
    assert fake.texts_to("oc_a")[0].endswith('<at user_id="ou_wangwu"></at>')
    assert feishu_uuid("short") == "short" and len(feishu_uuid("y" * 80)) <= 50


ENCRYPT_KEY, VERIFICATION_TOKEN = "test-encrypt-key", "test-verification-token"


def test_webhook_encrypted_signed_and_bad_signature_refused(fake, start_adapter, recording_bot):
    adapter = start_adapter(
        recording_bot,
        mode="webhook",
        webhook_host="127.0.0.1",
        webhook_port=0,
        encrypt_key=ENCRYPT_KEY,
        verification_token=VERIFICATION_TOKEN,
    )
    url = f"http://127.0.0.1:{adapter.webhook_address[1]}/feishu/events"

    challenge = {"challenge": "ch-123", "token": VERIFICATION_TOKEN, "type": "url_verification"}
    r = requests.post(url, data=encrypt(challenge, ENCRYPT_KEY), timeout=patience(5))
    assert r.status_code == 200 and r.json() == {"challenge": "ch-123"}

    bad = encrypt(message_event("签到", message_id="om_forged", token=VERIFICATION_TOKEN), ENCRYPT_KEY)
    headers = signed_headers(bad, ENCRYPT_KEY)
    headers["X-Lark-Signature"] = "0" * 64
    assert requests.post(url, data=bad, headers=headers, timeout=patience(5)).status_code != 200
    wrong_token = encrypt(message_event("签到", message_id="om_token", token="nope"), ENCRYPT_KEY)
    assert (
        requests.post(
            url, data=wrong_token, headers=signed_headers(wrong_token, ENCRYPT_KEY), timeout=5
        ).status_code
        != 200
    )

    good = encrypt(
        message_event("到访 张三 13812345678", message_id="om_hook", token=VERIFICATION_TOKEN), ENCRYPT_KEY
    )
    lower = {k.lower(): v for k, v in signed_headers(good, ENCRYPT_KEY).items()}  # proxies may lowercase
    r = requests.post(url, data=good, headers=lower, timeout=patience(5))
    assert r.status_code == 200, r.text
    r = requests.post(url, data=good, headers=signed_headers(good, ENCRYPT_KEY), timeout=patience(5))  # redelivery
    assert r.status_code == 200
    press = encrypt(
        card_event("送客", operator="ou_lisi", event_id="ev_hook", token=VERIFICATION_TOKEN), ENCRYPT_KEY
    )
    r = requests.post(url, data=press, headers=signed_headers(press, ENCRYPT_KEY), timeout=patience(5))
    assert r.status_code == 200 and r.json()["toast"]["content"]

    wait_for(lambda: len(fake.sent_to("oc_group")) == 2, what="two webhook replies")
    assert [m.event_id for m in recording_bot.offered] == ["feishu:om_hook", "feishu:om_hook", "feishu:ev_hook"]
    assert [m.event_id for m in recording_bot.calls] == ["feishu:om_hook", "feishu:ev_hook"]
    assert [t.split("\n")[0] for t in fake.texts_to("oc_group")] == [
        "收到:到访 张三 13812345678",
        "收到:送客",
    ]
    assert requests.post(url.replace("/feishu/events", "/other"), data=good, timeout=patience(5)).status_code == 404


def test_settings_from_env():
    env = {
        "FEISHU_APP_ID": "cli_x",
        "FEISHU_APP_SECRET": "s",
        "FEISHU_ENCRYPT_KEY": "ek",
        "FEISHU_VERIFICATION_TOKEN": "vt",
        "FEISHU_WEBHOOK_PORT": "9001",
    }
    s = FeishuSettings.from_env(
        {"mode": "webhook", "domain": "lark", "webhook_port": 8080, "webhook_path": "/hook"}, env=env
    )
    assert (s.app_id, s.mode, s.domain, s.webhook_port, s.webhook_path) == (
        "cli_x",
        "webhook",
        "https://open.larksuite.com",
        9001,
        "/hook",
    )
    assert (s.encrypt_key, s.verification_token) == ("ek", "vt")
    assert "app_secret" not in repr(s) and "ek" not in repr(s) and "vt" not in repr(s)
    d = FeishuSettings.from_env(None, env={"FEISHU_APP_ID": "a", "FEISHU_APP_SECRET": "b"})
    assert (d.mode, d.domain) == ("ws", "https://open.feishu.cn")
    with pytest.raises(ConfigError, match="FEISHU_APP_SECRET"):
        FeishuSettings.from_env({}, env={"FEISHU_APP_ID": "a"})
    with pytest.raises(ConfigError, match="FEISHU_MODE"):
        FeishuSettings.from_env({"mode": "poll"}, env={"FEISHU_APP_ID": "a", "FEISHU_APP_SECRET": "b"})
