"""Issue 17 item 20 through `App.handle` on the database: undoing a big order tells the managers."""
from __future__ import annotations

import pytest

from tests.bus import opened, say


@pytest.fixture
def app(db_url, config_file):
    return opened(db_url, config_file)


def test_undoing_a_big_order_tells_the_managers_who_had_the_alert(app):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    alert = [o.to for o in say(app, "李四", "成交 张三 13812345678 3套", "09:10") if "大单提醒" in o.text]
    assert alert == ["张经理"]
    out = say(app, "张经理", "/撤销", "09:20")
    assert out[0].text.startswith("已撤销")
    assert [(o.to, o.text) for o in out[1:]] == [
        ("张经理", "大单撤销：张经理 撤销了 张三（13812345678）3套的成交登记，此前的大单提醒作废。")]


def test_undoing_a_small_deal_tells_nobody(app):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    say(app, "李四", "成交 张三 13812345678 1套", "09:10")
    out = say(app, "张经理", "/撤销", "09:20")
    assert out[0].text.startswith("已撤销") and len(out) == 1


def test_the_same_appeal_sent_twice_messages_the_managers_once(app):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    say(app, "李四", "成交 张三 13812345678 1套", "09:10")
    first = say(app, "王五", "申诉 13812345678 我先接待的", "09:20")
    again = say(app, "王五", "申诉 13812345678 我先接待的", "09:21")
    assert [o.to for o in first if o.text.startswith("申诉：")] == ["张经理"]
    assert len(again) == 1 and again[0].text.startswith("你对 张三 的申诉已提交过")
