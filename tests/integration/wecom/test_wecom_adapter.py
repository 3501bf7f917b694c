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


def test_a_private_command_needs_no_mention_and_is_answered_privately(fake, office, start):
    start(office)
    fake.wait_subscribed()
    fake.push(text_callback("/开班 李四 王五", IDS["张经理"], req_id="req-p"))
    wait_for(lambda: fake.texts(IDS["张经理"]), what="the private answer")
    fake.push(text_callback("到访 张三 13812345678", IDS["李四"], req_id="req-visit"))
    answer = wait_for(lambda: fake.texts(IDS["李四"]), what="李四's private answer")
    assert "张三" in answer[0] and "138****5678" in answer[0] and "13812345678" not in answer[0]
    assert not fake.texts(GROUP)
