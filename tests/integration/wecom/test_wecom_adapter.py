"""The WeCom adapter against the local fake server, with the real client and the real core (issue 20)."""
from __future__ import annotations

from tests.integration.wecom.conftest import GROUP, IDS
from tests.integration.wecom.wecom_fake import text_callback, wait_for


def test_a_group_mention_command_is_answered_quoting_its_req_id(fake, office, start):
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("@接待助手 /开班 李四 王五", IDS["张经理"], GROUP, req_id="req-open"))
    shown = wait_for(lambda: [s for s in fake.shown if s["req_id"] == "req-open"], what="the /开班 answer")
    assert shown[0]["cmd"] == "aibot_respond_msg" and shown[0]["to"] == GROUP
    assert "下一位" in shown[0]["body"]["stream"]["content"] and shown[0]["body"]["stream"]["finish"] is True


def test_a_private_command_needs_no_mention_is_confirmed_privately_and_announced_in_the_group(fake, office, start):
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("/开班 李四 王五", IDS["张经理"], req_id="req-p"))
    wait_for(lambda: fake.texts(IDS["张经理"]), what="the private answer")
    fake.push(text_callback("到访 张三 13812345678", IDS["李四"], req_id="req-visit"))
    answer = wait_for(lambda: fake.texts(IDS["李四"]), what="李四's private answer")
    assert "张三" in answer[0] and "138****5678" in answer[0] and "13812345678" not in answer[0]
    group = wait_for(lambda: [t for t in fake.texts(GROUP) if "张三" in t], what="the announcement in the group")
    assert "138****5678" in group[0] and "13812345678" not in group[0]      # COMMANDS "Private chats"


def test_scheduled_messages_are_pushed_with_send_msg_to_the_group_and_to_the_user(fake, office, start):
    from bot.sweep import sweep_once
    from handlers.messages import Outgoing
    adapter = start(office)
    fake.wait_subscribed()
    pushed = sweep_once(office, adapter.send, office.clock.now())      # 09:00: the day's opening falls due
    assert pushed, "nothing fell due at 09:00"
    group = wait_for(lambda: [s for s in fake.shown if s["to"] == GROUP], what="the opening in the group")
    assert {s["cmd"] for s in group} == {"aibot_send_msg"} and group[0]["body"]["msgtype"] in ("markdown", "template_card")
    assert office.sent([o.key for o in pushed]) == {o.key for o in pushed}         # marked sent
    failed = adapter.send([Outgoing("请跟进客户 张三", to="李四", key="remind:li", project="阳光花园")])
    assert failed == set()
    assert wait_for(lambda: fake.texts(IDS["李四"]), what="the private reminder") == ["请跟进客户 张三"]


def test_a_redelivered_callback_is_applied_once(fake, office, start):
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("@接待助手 /开班 李四 王五", IDS["张经理"], GROUP))
    wait_for(lambda: fake.texts(GROUP), what="the /开班 answer")
    visit = text_callback("@接待助手 到访 张三 13812345678", IDS["李四"], GROUP, msgid="msg-visit")
    fake.push(visit)
    wait_for(lambda: any("张三" in t for t in fake.texts(GROUP)), what="the 到访 answer")
    again = dict(visit, headers={"req_id": "req-again"})            # WeCom delivers it again, new req_id
    fake.push(again)
    fake.push(text_callback("@接待助手 轮排", IDS["王五"], GROUP, req_id="req-board"))  # a later one is answered …
    board = wait_for(lambda: [fake.texts(GROUP)[i] for i, s in enumerate(fake.shown) if s["req_id"] == "req-board"],
                     what="the 轮排 answer")
    assert sum("张三" in t for t in fake.texts(GROUP)) == 1
    assert not [s for s in fake.shown if s["req_id"] == "req-again"]
    assert "李四 " in board[0] and "1次" in board[0], board[0]         # … and 李四 counted once


def test_a_card_click_is_the_same_command_from_the_user_who_clicked(fake, office, start):
    from tests.integration.wecom.wecom_fake import card_click
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("@接待助手 /开班 李四 王五", IDS["张经理"], GROUP))
    fake.push(text_callback("@接待助手 轮排", IDS["张经理"], GROUP, req_id="req-board"))
    board = wait_for(lambda: [s for s in fake.shown if s["req_id"] == "req-board"], what="the board")
    card = board[0]["body"]["template_card"]
    assert card["card_type"] == "button_interaction" and [b["key"] for b in card["button_list"]] == ["接待", "送客"]
    click = card_click("接待", IDS["李四"], GROUP, msgid="evt-click")
    fake.push(click)
    answer = wait_for(lambda: [s for s in fake.shown if s["req_id"] == click["headers"]["req_id"]],
                      what="the answer to the click")
    assert answer[0]["cmd"] == "aibot_respond_msg" and "李四" in answer[0]["body"]["stream"]["content"]
    assert "下一位:王五" in answer[0]["body"]["stream"]["content"]      # 李四 took the walk-in: 王五 is next


def test_a_dropped_connection_reconnects_and_the_pending_reply_is_shown_once(fake, office, start):
    from datetime import timedelta

    from bot.sweep import settle, sweep_once
    adapter = start(office)
    fake.wait_subscribed()
    fake.push(text_callback("@接待助手 /开班 李四 王五", IDS["张经理"], GROUP))
    wait_for(lambda: fake.texts(GROUP), what="the /开班 answer")
    fake.drop_on = "aibot_respond_msg"      # WeCom shows the reply, but the line drops before its answer
    fake.push(text_callback("@接待助手 到访 张三 13812345678", IDS["李四"], GROUP, req_id="req-visit"))
    fake.wait_subscribed(2)                 # the client reconnected by itself
    wait_for(lambda: adapter.connected, what="connected again")
    unsent = wait_for(lambda: office.outbox.reclaim(office.clock.now() + timedelta(minutes=10)) or None,
                      what="the unsent reply in the outbox")
    assert [o for o in unsent if "张三" in o.text]
    office.clock.set(office.clock.now() + timedelta(minutes=1))
    settle(office, unsent, adapter.send, office.clock.now())    # the sweep's retry, same key
    assert office.sent([o.key for o in unsent]) == {o.key for o in unsent}
    visits = [s for s in fake.frames if s.get("cmd") == "aibot_respond_msg" and s["headers"]["req_id"] == "req-visit"]
    assert len(visits) == 2                 # sent twice (same req_id, same stream id) …
    assert sum("张三" in t for t in fake.texts(GROUP)) == 1      # … shown once
    later = sweep_once(office, adapter.send, office.clock.now() + timedelta(minutes=30))
    assert not [o for o in later if "张三" in o.text]              # and never again


def test_no_frame_for_dead_after_seconds_means_a_dead_connection_and_a_new_one(fake, office, start):
    from bot.adapters.wecom.client import Timing
    adapter = start(office, timing=Timing(heartbeat=0.2, dead_after=1.0, retry_min=0.05, retry_max=0.2))
    fake.wait_subscribed()
    first = adapter.last_frame_at
    assert first is not None and first == office.clock.now()       # read from the app's clock
    fake.silent = True                      # the line stays open but nothing comes back, not even heartbeats
    wait_for(lambda: not adapter.connected, what="the silent connection given up")
    fake.silent = False
    fake.wait_subscribed(2)
    wait_for(lambda: adapter.connected, what="a new connection")


def test_a_file_is_uploaded_over_the_connection_and_sent_as_a_file_message(fake, office, start, tmp_path):
    from handlers.messages import Outgoing
    book = tmp_path / "导出.xlsx"
    book.write_bytes(b"PK" + bytes(700_000))                # two upload chunks
    adapter = start(office)
    fake.wait_subscribed()
    assert adapter.send([Outgoing("导出完成", to="张经理", key="export:1", project="阳光花园", file=str(book))]) == set()
    cmds = [f["cmd"] for f in fake.frames if f.get("cmd", "").startswith("aibot_upload")]
    assert cmds == ["aibot_upload_media_init", "aibot_upload_media_chunk", "aibot_upload_media_chunk",
                    "aibot_upload_media_finish"]
    mine = [s["body"] for s in fake.shown if s["to"] == IDS["张经理"]]
    assert mine[0]["markdown"]["content"] == "导出完成" and mine[1] == {"msgtype": "file", "file": {"media_id": "media1"}}


def test_a_fourth_message_while_three_are_in_hand_is_refused_and_changes_nothing(fake, office, start):
    import threading
    release = threading.Event()

    class Slow:                                 # the core, held up until the test lets it go
        def __getattr__(self, name):
            return getattr(office, name)

        def handle(self, msg):
            release.wait(30)
            return office.handle(msg)
    start(Slow())
    fake.wait_subscribed()
    for i in range(4):
        fake.push(text_callback(f"到访 客户{i} 1381234567{i}", IDS["李四"], req_id=f"req-{i}"))
    refusal = wait_for(lambda: [s for s in fake.shown if s["req_id"] == "req-3"], what="the refusal")
    assert "3 条消息在处理中" in refusal[0]["body"]["stream"]["content"]
    release.set()
    wait_for(lambda: len(fake.texts(IDS["李四"])) == 4, what="the three answers")
    assert office.pending() == [] and not any("客户3" in t for t in fake.texts(IDS["李四"]))


def test_a_manager_binds_a_new_group_on_its_first_mention(fake, office, start):
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("@接待助手 轮排", IDS["李四"], "wrNEW", req_id="req-unbound"))
    wait_for(lambda: [s for s in fake.shown if s["req_id"] == "req-unbound"], what="the unbound group's answer")
    fake.push(text_callback("@接待助手 /绑定 阳光花园", IDS["张经理"], "wrNEW", req_id="req-bind"))
    wait_for(lambda: [s for s in fake.shown if s["req_id"] == "req-bind"], what="the /绑定 answer")
    assert set(office.chats("wecom", "阳光花园")) == {GROUP, "wrNEW"}
