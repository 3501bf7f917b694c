"""Issue 17 items 11, 12, 20: masked phones as the bot prints them, units and names as typed, a repeated 成交."""
from __future__ import annotations

import re

import pytest

from bot.parser import TABLE, parse
from rules import texts as T
from tests.unit.group import Office


@pytest.fixture
def office(config_file):
    return Office(config_file(), since="2026-11-20 08:00")


def _suggestions() -> list[str]:
    """Every command the bot tells people to type with a masked phone in it (`/核实 {phone} 同一人`)."""
    found = []
    for value in vars(T).values():
        for text in value if isinstance(value, tuple | list) else [value]:
            if isinstance(text, str):
                found += [m.group(0) for m in re.finditer(r"/?([\u4e00-\u9fff]{2}) \{phone\}[^{）」。，\n]*", text)
                          if m.group(1) in TABLE]
    return found


def _typed(suggestion: str, phone: str) -> str:
    """The suggestion as a person types it: one alternative, the placeholders filled in."""
    text = suggestion.format(phone=phone).split("|")[0]
    return (re.sub(r" ?\[.*?\]", "", text).replace("甲", "李四").replace("内容", "回访")
            .replace("新手机", "13900010003"))       # (a new phone shown as the same masked one)


def test_each_suggested_command_takes_the_masked_phone_it_was_shown(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "送客", "2026-11-27 09:20")
    office.say("王五", "到访 张三 13900000003", "2026-11-27 09:30")        # same name: pending
    suggestions, replies = _suggestions(), []
    assert {s.split(" ")[0] for s in suggestions} >= {"/核实", "代接", "/裁定", "跟进"}, suggestions
    for s in suggestions:
        for phone in ("139****0003", "139＊＊＊＊0003", "139××××0003"):
            text = _typed(s, phone)
            verb, cmd = parse(text)
            assert "139****0003" in repr(cmd), (text, cmd)
            said = office.say("张经理" if verb.manager else "李四", text, "2026-11-27 09:40")
            assert "0003" not in said.text or not said.refused or "没有手机号" not in said.text, (text, said.text)
            assert not said.text.startswith("登记无效"), (text, said.text)
            replies.append(said.text)
    assert any(r.startswith("已核实为同一人：张三 仍归 李四") for r in replies), replies


def test_a_masked_phone_matching_several_customers_lists_them_and_changes_nothing(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812340003", "2026-11-27 09:05")
    office.say("李四", "送客", "2026-11-27 09:10")
    office.say("王五", "到访 李娟 13856780003", "2026-11-27 09:15")
    before = office.state()
    said = office.say("张经理", "/释放 138****0003", "2026-11-27 09:20")
    assert said.refused and "张三（138****0003）" in said.text and "李娟（138****0003）" in said.text
    assert office.state() == before
    said = office.say("张经理", "/释放 138****0004", "2026-11-27 09:20")
    assert said.refused and "没有手机号" in said.text


def test_a_private_lookup_by_a_manager_shows_the_full_phone(office):
    from handlers import commands as c
    from handlers import customer_cmds as cc
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    with office.uow:
        ctx = office.ctx("2026-11-27 09:10", "张经理")
        ctx.private = True
        reply = cc.lookup(c.Lookup("5678"), ctx)
        assert "13812345678" in reply.text and reply.full_phones
        ctx = office.ctx("2026-11-27 09:10", "王五")
        ctx.private = True
        assert "138****5678" in cc.lookup(c.Lookup("5678"), ctx).text


@pytest.mark.parametrize("units", ["3", "叁套", "叁", "3 套"])
def test_a_deal_of_three_units_as_typed_is_three_units_and_a_big_order(office, units):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    said = office.say("李四", f"成交 张三 13812345678 {units}", "2026-11-27 09:08")
    assert said.text == "成交登记：张三（138****5678）3套，业绩 李四 100%。", said.text
    assert [t.to for t in said.tells] == ["张经理"]


def test_a_spaced_out_name_before_the_phone_is_one_name(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    said = office.say("李四", "到访 冯 晓 峰 13812345678", "2026-11-27 09:05")
    assert said.text.startswith("李四 报到访：冯晓峰（138****5678），新客户。"), said.text


def test_receive_with_a_name_and_phone_registers_the_visit_too(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    said = office.say("李四", "接待 张三 13812345678", "2026-11-27 09:05")
    assert said.text.startswith("李四 报到访：张三（138****5678），新客户。"), said.text
    assert office.say("王五", "查客 5678", "2026-11-27 09:06").text.startswith("张三（138****5678）：跟踪中，归属 李四")


def test_the_same_deal_sent_twice_is_already_recorded_and_changes_nothing(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    office.say("李四", "成交 张三 13812345678", "2026-11-27 09:08")
    before = office.state()
    said = office.say("李四", "成交 张三 13812345678", "2026-11-27 09:09")
    assert said.text == "张三（138****5678）今天的成交已登记：1套，业绩 李四 100%，未作更改。", said.text
    assert office.state() == before
    said = office.say("李四", "成交 张三 13812345678 2套", "2026-11-27 09:10")
    assert "已更正：1套 → 2套" in said.text


def test_see_off_and_correct_take_the_masked_phone_they_were_shown(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-27 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-27 09:05")
    assert office.say("王五", "送客 138****5678", "2026-11-27 09:10").refused      # not his reception
    said = office.say("李四", "送客 138****5678", "2026-11-27 09:12")
    assert not said.refused and said.text.startswith("李四 送客"), said.text
    said = office.say("李四", "更正 138＊＊＊＊5678 张珊", "2026-11-27 09:15")
    assert said.text.startswith("已更正：张三 → 张珊（138****5678）"), said.text
