"""Platform accounts and group chats: 我是 姓名, /绑定 项目名, unknown senders and unbound groups."""
from __future__ import annotations

import pytest

from bot.bootstrap import bootstrap
from bot.messages import Incoming
from tests.conftest import at

T = at("2026-11-27 09:30")


@pytest.fixture
def app(db_url, config_file):
    return bootstrap(config_file(), db_url=db_url)


def feishu(app, sender, text, chat="oc_new", private=False):
    return app.handle(Incoming("feishu", sender, text, T, chat_id=None if private else chat, private=private))


def test_an_unbound_group_explains_itself_to_commands_and_ignores_chat(app):
    assert feishu(app, "ou_x", "大家好") == []
    out = feishu(app, "ou_x", "签到")
    assert len(out) == 1 and "绑定" in out[0].text


def test_a_manager_links_the_account_then_binds_the_group(app):
    assert "只有" in feishu(app, "ou_boss", "/绑定 阳光花园")[0].text          # not known yet
    assert "已记住" in feishu(app, "ou_boss", "我是 张经理", private=True)[0].text
    assert "没有叫" in feishu(app, "ou_boss", "/绑定 月亮湾")[0].text
    assert "已绑定" in feishu(app, "ou_boss", "/绑定 阳光花园")[0].text
    assert app.chats("feishu", "阳光花园") == ["oc_new"]
    assert app.user_id("feishu", "阳光花园", "张经理") == "ou_boss"


def test_a_salesperson_cannot_bind_a_group(app):
    feishu(app, "ou_li", "我是 李四", private=True)
    assert "只有" in feishu(app, "ou_li", "/绑定 阳光花园")[0].text
    assert app.chats("feishu", "阳光花园") == []


def test_in_a_bound_group_an_unknown_sender_is_asked_who_they_are_and_a_taken_name_is_refused(app):
    feishu(app, "ou_boss", "我是 张经理", private=True)
    feishu(app, "ou_boss", "/绑定 阳光花园")
    assert "我是" in feishu(app, "ou_li", "签到")[0].text
    assert "已记住" in feishu(app, "ou_li", "我是 李四")[0].text
    assert "已绑定了别的账号" in feishu(app, "ou_fake", "我是 李四")[0].text
    assert "没有「孙悟空」" in feishu(app, "ou_fake", "我是 孙悟空")[0].text
    out = feishu(app, "ou_boss", "/开班 李四 王五")
    assert out[0].text.endswith("下一位:李四") and out[0].mentions == ("李四",)
    out = feishu(app, "ou_li", "到访 张三 13812345678")
    assert "138****5678" in out[0].text and out[0].to is None


def test_a_private_message_from_a_known_member_is_answered_privately_by_name(app):
    feishu(app, "ou_boss", "我是 张经理", private=True)
    feishu(app, "ou_boss", "/绑定 阳光花园")
    feishu(app, "ou_li", "我是 李四", private=True)
    feishu(app, "ou_boss", "/开班 李四 王五")
    feishu(app, "ou_li", "到访 张三 13812345678")
    out = feishu(app, "ou_li", "我的客户", private=True)
    assert out[0].to == "李四" and "13812345678" in out[0].text
