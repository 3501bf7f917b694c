"""What the bot says (issue 9 §6–7): help short enough for a group, one text catalogue, no wrong words."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from tests.conftest import ROOT, at, fixed

P = "阳光花园"
HALF_WIDTH_IN_CHINESE = re.compile(r"[\u4e00-\u9fff][,:;()?!]|[,:;()?!][\u4e00-\u9fff]")


@pytest.fixture
def app(tmp_path, config_file):
    return bootstrap(config_file(), db_url=f"sqlite:///{tmp_path}/r.db", clock=fixed())


def say(app, sender, text, when="2026-11-27 09:05"):
    return [o.text for o in app.handle(Incoming("console", sender, text, at(when), project=P))]


def test_help_in_a_group_is_the_salesperson_commands_in_at_most_26_lines(app):
    [text] = say(app, "李四", "帮助")
    assert len(text.splitlines()) <= 26
    assert "/开班" not in text and "/撤销" not in text       # manager commands are behind 帮助 经理
    assert "帮助 经理" in text and "帮助 到访" in text


def test_help_examples_can_be_typed_exactly_as_shown(app):
    """No example carries stars: the phone in it is typable, and every example parses as its command."""
    from bot.parser import parse
    [sales] = say(app, "李四", "帮助")
    [manager] = say(app, "张经理", "帮助 经理")
    assert "*" not in sales + manager
    assert "13812345678" in sales
    for line in sales.splitlines()[1:] + manager.splitlines()[1:]:
        for example in line.split(" —— ")[0].split(" ／ "):
            assert parse(example) is not None, example


def test_help_manager_lists_the_manager_commands(app):
    [text] = say(app, "李四", "帮助 经理")
    for word in ("/开班", "/撤销", "/记录", "/导出", "/成员", "/裁定"):
        assert word in text


@pytest.mark.parametrize("topic, expect", [("到访", "到访 姓名 手机"), ("/撤销", "/撤销"), ("来客", "接待"),
                                           ("成交", "套数")])
def test_help_on_one_command_explains_it(app, topic, expect):
    [text] = say(app, "李四", f"帮助 {topic}")
    assert expect in text and len(text.splitlines()) <= 5


def test_help_on_an_unknown_topic_says_so(app):
    [text] = say(app, "李四", "帮助 飞天")
    assert "没有「飞天」这个命令" in text


def test_catalogue_sentences_use_full_width_punctuation():
    from rules import texts as T
    for name in dir(T):
        value = getattr(T, name)
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, str):
                assert not HALF_WIDTH_IN_CHINESE.search(v.replace("下一位:", "")), (name, v)


def test_handlers_hold_no_chinese_sentences_of_their_own():
    """Every user-facing sentence of the handlers and rules lives in rules/texts.py."""
    chinese = re.compile(r"[\u4e00-\u9fff]")
    found = []
    for folder in ("handlers", "rules"):
        for path in (ROOT / folder).glob("*.py"):
            if path.name == "texts.py":
                continue
            tree = ast.parse(Path(path).read_text(encoding="utf-8"))
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                          and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                        and chinese.search(node.value) and len(node.value) > 4 \
                        and not node.value.startswith("^"):             # a pattern, not a sentence
                    found.append(f"{path.name}:{node.lineno}: {node.value}")
    assert not found, "\n".join(found)


def test_an_uncounted_non_buyer_does_not_claim_a_refund(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 08:00")       # before the shift: receptions uncounted
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 08:10")
    [text, *_] = say(app, "李四", "非客 同行", "2026-11-27 08:11")
    assert "退回" not in text and "不计名次" in text


def test_a_counted_non_buyer_says_the_turn_came_back(app):
    say(app, "张经理", "/开班 李四 王五")
    say(app, "李四", "接待")
    [text, *_] = say(app, "李四", "非客 同行", "2026-11-27 09:06")
    assert "名次已退回" in text and "补接" in text


def test_registering_a_released_customer_does_not_say_owner_none(app):
    say(app, "张经理", "/开班 李四 王五")
    say(app, "李四", "到访 张三 13812345678")
    say(app, "李四", "送客")
    say(app, "张经理", "/释放 13812345678")
    [text, *_] = say(app, "王五", "到访 张三 13812345678", "2026-11-27 09:30")
    assert "原归 无" not in text and "公客" in text and "归 王五" in text


def test_see_off_by_someone_not_in_the_queue_does_not_say_on_duty(app):
    say(app, "张经理", "/开班 李四", "2026-11-27 08:00")
    say(app, "王五", "到访 张三 13812345678", "2026-11-27 08:10")   # 王五 is not in today's queue
    [text, *_] = say(app, "王五", "送客", "2026-11-27 08:20")
    assert "已在岗" not in text and "送客" in text


def test_a_refusal_with_nobody_on_duty_does_not_say_nobody_should_receive(app):
    say(app, "张经理", "/开班 李四", "2026-11-27 09:00")
    say(app, "李四", "接待", "2026-11-27 09:01")
    [text] = say(app, "李四", "接待", "2026-11-27 09:02")
    assert "无人在岗" not in text and "(" not in text
    assert "现在没有在岗的同事" in text


def test_next_none_says_why_and_who_takes_the_next_walk_in(app):
    say(app, "张经理", "/开班 李四", "2026-11-27 09:00")
    [text, *_] = say(app, "李四", "接待", "2026-11-27 09:01")
    last = text.splitlines()[-1]
    assert last.startswith("下一位:无（") and "送客" in last


def test_the_change_log_names_a_registration(app):
    say(app, "张经理", "/开班 李四 王五")
    say(app, "李四", "接待")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:06")
    [log] = say(app, "张经理", "/记录", "2026-11-27 09:10")
    line = next(x for x in log.splitlines() if "到访" in x)
    assert "无变化" not in line and "登记 张三（138****5678），归 李四" in line
