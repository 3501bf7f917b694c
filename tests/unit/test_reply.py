"""handlers/reply.py: what a handler hands back to the bus, and the handler table's one signature."""
from __future__ import annotations

import inspect

from handlers.registry import HANDLERS
from handlers.reply import Reply, Tell


def test_mention_adds_names_in_order_and_skips_nobody():
    r = Reply("好的").mention("李四").mention(None, "王五", "")
    assert r.mentions == ("李四", "王五") and r.text == "好的"


def test_a_reply_is_unchanged_by_adding_to_a_copy():
    r = Reply("好的")
    r.mention("李四")
    r.tell(Tell("张经理", "大单"))
    assert r.mentions == () and r.tells == ()


def test_tells_keep_their_order():
    r = Reply("已转移").tell(Tell("甲", "一")).tell(Tell("乙", "二"), Tell("丙", "三"))
    assert [t.to for t in r.tells] == ["甲", "乙", "丙"]


def test_only_an_undo_is_logged_as_an_undo():
    assert Reply("好的").audit_kind == "cmd"
    assert Reply("已撤销", undo=(object(),)).audit_kind == "undo"


def test_every_handler_takes_cmd_and_ctx_and_returns_a_reply():
    for cmd_type, handler in HANDLERS.items():
        sig = inspect.signature(handler)
        assert list(sig.parameters) == ["cmd", "ctx"], handler.__name__
        assert sig.return_annotation in (Reply, "Reply"), f"{cmd_type.__name__}: {handler.__name__}"
