"""Issue 17 items 9–10 through the bus on SQLite and PostgreSQL: everyday forms are applied, and a
command addressed to a colleague changes nothing."""
from __future__ import annotations

import pytest

from handlers.state_view import dump
from tests import bus
from tests.bus import P, opened
from tests.conftest import at


@pytest.fixture
def app(db_url, config_file):
    return opened(db_url, config_file)


def say(app, who, text, when):
    return bus.say(app, who, text, when, sent=True)


def presence(app, when: str) -> dict[str, str]:
    return {e["name"]: e["presence"] for e in dump(app.engine, app.projects[P], at(f"2026-11-27 {when}"))["queue"]}


@pytest.mark.parametrize("back", ["回来了", "回来啦～", "我回来了", "已回来", "@接待助手 回来了"])
def test_a_member_away_who_writes_back_in_everyday_words_is_back_in_the_queue(app, back):
    [away] = say(app, "李四", "暂离一下", "09:05")
    assert "暂离" in away.text and presence(app, "09:06")["李四"] == "away_personal"
    [out] = say(app, "李四", back, "09:20")
    assert "李四 回来了" in out.text
    assert presence(app, "09:21")["李四"] == "available"


def test_back_in_everyday_words_gets_the_next_walk_in(app):
    say(app, "李四", "暂离一下", "09:05")
    say(app, "李四", "我回来了", "09:10")
    [out] = say(app, "李四", "接待！", "09:15")
    assert "李四" in out.text and presence(app, "09:16")["李四"] == "busy"


def test_going_out_with_the_reason_glued_keeps_the_reason(app):
    out, *told = say(app, "王五", "外出办事", "09:05")
    assert "办事" in out.text and presence(app, "09:06")["王五"] == "away_business"
    assert [(t.to, "外出保留位置（办事）" in t.text) for t in told] == [("张经理", True)]     # RULES §9a


def test_a_see_off_addressed_to_a_colleague_does_not_end_the_senders_reception(app):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    assert presence(app, "09:06")["李四"] == "busy"
    assert say(app, "李四", "@王五 送客", "09:10") == []
    assert say(app, "李四", "@王五 送客了", "09:11") == []
    assert presence(app, "09:12")["李四"] == "busy"
    [out] = say(app, "李四", "@接待助手 送客了", "09:20")       # the bot's own mention is dropped
    assert "李四 送客" in out.text and presence(app, "09:21")["李四"] == "available"
