"""Who may speak for whom, end to end through the Feishu adapter and the fake Feishu server (RULES §9).

config.yaml ids are trusted; a manager's name is linked only with a one-time code from
`reception-bot link`; any other 「我是」 waits for a manager's /确认; a linked name is never re-linked
without a manager."""

from __future__ import annotations

from datetime import timedelta

import pytest
from feishu_fake import message_event, started_core, wait_for

from bot.identity import issue_code

CONFIG = """\
timezone: Asia/Shanghai
projects:
  - name: 阳光花园
    managers: [{name: 张经理, feishu: ou_manager}, 刘经理]
    salespeople: [{name: 李四, feishu: ou_lisi}, 王五, 赵六]
    chats: {feishu: [oc_group]}
"""
P = "阳光花园"


class Chat:
    """Sends as Feishu users over the long connection and waits for the core's answer."""

    def __init__(self, fake, port):
        self.fake, self.port, self.n = fake, port, 0

    def say(self, sender: str, text: str, private: bool = False):
        self.n += 1
        before = len(self.port.results)
        self.fake.push(message_event(text, sender=sender, message_id=f"om_{self.n}",
                                     chat_type="p2p" if private else "group",
                                     chat_id=f"oc_p2p_{sender}" if private else "oc_group"))
        wait_for(lambda: len(self.port.results) > before, what=f"the answer to {text}")
        return self.port.results[-1][1]

    def texts_to(self, open_id: str, count: int) -> list[str]:
        wait_for(lambda: len(self.fake.texts_to(open_id)) >= count, what=f"{count} messages to {open_id}")
        return self.fake.texts_to(open_id)


@pytest.fixture
def chat(fake, start_adapter, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    port = started_core(path, f"sqlite:///{tmp_path}/r.db")
    start_adapter(port)
    fake.wait_connected()
    return Chat(fake, port)


def linked(chat, name: str) -> str | None:
    return chat.port.app.user_id("feishu", P, name)


def test_a_strangers_claim_to_a_managers_name_is_refused_and_the_group_still_refuses_them(chat):
    queue = chat.say("ou_manager", "轮排")[0].text
    (out,) = chat.say("ou_stranger", "我是 刘经理", private=True)
    assert "验证码" in out.text and "reception-bot link 刘经理" in out.text
    assert linked(chat, "刘经理") is None
    (out,) = chat.say("ou_stranger", "/开班 李四 王五")
    assert "不认识你" in out.text
    (out,) = chat.say("ou_stranger", "/成员 添加 坏人")
    assert "不认识你" in out.text
    assert chat.say("ou_manager", "轮排")[0].text == queue             # the queue is as it was


def test_a_strangers_claim_to_a_salesperson_waits_for_a_manager_who_is_told_privately(chat):
    chat.fake.names["ou_wang"] = "王小五"                              # the name the contact API gives
    out, *notices = chat.say("ou_wang", "我是 王五", private=True)
    assert "等经理确认" in out.text and linked(chat, "王五") is None
    assert sorted(n.to for n in notices) == ["刘经理", "张经理"]      # every manager of the project
    notice = chat.texts_to("ou_manager", 1)[0]                        # 刘经理 has no account yet
    assert "「王五」" in notice and "/确认 王五" in notice and "「王小五」的飞书账号" in notice
    assert "不认识你" in chat.say("ou_wang", "签到")[0].text          # nothing until confirmed
    assert "只有经理" in chat.say("ou_lisi", "/确认 王五")[0].text     # a salesperson cannot confirm
    (out, told) = chat.say("ou_manager", "/确认 王五")
    assert "已绑定" in out.text and told.to == "王五"
    assert linked(chat, "王五") == "ou_wang"
    assert "已绑定为「王五」" in chat.texts_to("ou_wang", 2)[-1]
    assert "不认识你" not in chat.say("ou_wang", "签到")[0].text


def test_the_one_time_code_links_a_manager_once_and_only_in_a_private_chat(chat):
    code = issue_code(chat.port.app.engine, P, "刘经理", chat.port.clock.now())
    assert len(code) == 6 and code.isdigit()
    (out,) = chat.say("ou_liu", f"我是 刘经理 {code}", private=True)
    assert "已用验证码绑定" in out.text and linked(chat, "刘经理") == "ou_liu"
    (out,) = chat.say("ou_other", f"我是 刘经理 {code}", private=True)    # the same code again
    assert "不对或已过期" in out.text and linked(chat, "刘经理") == "ou_liu"
    assert chat.say("ou_liu", "/开班 李四 赵六")[0].text.endswith("下一位:李四")
    shown = issue_code(chat.port.app.engine, P, "刘经理", chat.port.clock.now())
    assert "已作废" in chat.say("ou_other", f"我是 刘经理 {shown}")[0].text    # said in the group: burnt
    assert "不对或已过期" in chat.say("ou_other", f"我是 刘经理 {shown}", private=True)[0].text
    assert linked(chat, "刘经理") == "ou_liu"


def test_the_one_time_code_expires_after_ten_minutes(chat):
    old = issue_code(chat.port.app.engine, P, "刘经理", chat.port.clock.now() - timedelta(minutes=10, seconds=5))
    (out,) = chat.say("ou_liu", f"我是 刘经理 {old}", private=True)
    assert "不对或已过期" in out.text and linked(chat, "刘经理") is None


def test_wrong_codes_burn_the_live_one_after_five_tries(chat):
    code = issue_code(chat.port.app.engine, P, "刘经理", chat.port.clock.now())
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert "不对" in chat.say("ou_guess", f"我是 刘经理 {wrong}", private=True)[0].text
    assert "不对" in chat.say("ou_liu", f"我是 刘经理 {code}", private=True)[0].text
    assert linked(chat, "刘经理") is None


def test_a_manager_name_cannot_be_taken_not_even_with_a_managers_confirmation(chat):
    chat.say("ou_stranger", "我是 张经理", private=True)
    assert linked(chat, "张经理") == "ou_manager"                 # config.yaml ids are trusted
    code = issue_code(chat.port.app.engine, P, "张经理", chat.port.clock.now())
    assert "config.yaml" in chat.say("ou_stranger", f"我是 张经理 {code}", private=True)[0].text
    assert linked(chat, "张经理") == "ou_manager"                 # … even against a code
    chat.say("ou_stranger", "我是 刘经理", private=True)
    (out,) = chat.say("ou_manager", "/确认 刘经理")
    assert "没有等待确认" in out.text and linked(chat, "刘经理") is None


def test_a_linked_name_is_not_relinked_without_a_manager(chat):
    (out,) = chat.say("ou_rival", "我是 李四", private=True)         # 李四's id comes from config.yaml
    assert "config.yaml" in out.text and linked(chat, "李四") == "ou_lisi"
    chat.say("ou_zhao", "我是 赵六", private=True)
    chat.say("ou_manager", "/确认 赵六")
    assert linked(chat, "赵六") == "ou_zhao"
    out = chat.say("ou_rival", "我是 赵六", private=True)[0]
    assert "等经理确认" in out.text and linked(chat, "赵六") == "ou_zhao"
    assert "另一个账号" in chat.texts_to("ou_manager", 2)[-1]
    assert "只有经理" in chat.say("ou_zhao", "/确认 赵六")[0].text
    assert linked(chat, "赵六") == "ou_zhao"
