"""Issue 17 "What to build" 6: no reply tells people to type something the bot then refuses as
malformed. Every command a text of the catalogue suggests (after 发/请发/可发/例/再发) is fed back to
the parser with its placeholders filled in, and must parse as that command, not as its usage line."""
from __future__ import annotations

import re

import pytest

from bot.parser import TABLE, parse
from rules import texts as T

FILL = {"{phone}": "13812345678", "{name}": "张三", "{me}": "李四", "{member}": "李四", "{named}": "王五",
        "{owner}": "李四", "{helper}": "", "{rival}": "王五", "手机": "13812345678", "甲": "李四",
        "乙": "王五", "原因": "送合同", "内容": "电话沟通", "姓名": "张三", "理由": "我先接待的", "类型": "推销",
        "新姓名": "张建国", "项目名": "阳光花园", "{word}": "签退", "{key}": "张三"}
LEAD = r"(?:请发|可发|再发|发|例)[：:]?\s*"
STOP = "，。；）」\n、（(“"


def suggestions() -> list[str]:
    out = []
    for value in vars(T).values():
        texts = value.values() if isinstance(value, dict) else value if isinstance(value, tuple | list) else [value]
        for text in texts:
            if not isinstance(text, str):
                continue
            for m in re.finditer(LEAD + r"(/?[\u4e00-\u9fff]{2,4}(?: [^" + STOP + r" ]+)*)", text):
                word = m.group(1).lstrip("/").split(" ")[0]
                if word in TABLE and "|" not in m.group(1) and "[" not in m.group(1):
                    out.append(m.group(1))
    return sorted(set(out))


def filled(s: str) -> str:
    for k, v in FILL.items():
        s = s.replace(k, v)
    return re.sub(r"\{[a-z_]+\}", "李四", s)


def test_the_catalogue_suggests_commands():
    found = suggestions()
    assert len(found) >= 15, found
    assert {f.split(" ")[0].lstrip("/") for f in found} >= {"到访", "签到", "回来", "送客", "接待"}, found


@pytest.mark.parametrize("suggested", suggestions())
def test_each_suggested_command_parses_as_that_command(suggested):
    text = filled(suggested)
    got = parse(text)
    assert got is not None, text
    verb, _cmd = got
    assert suggested.lstrip("/").split(" ")[0] in verb.words, (text, verb.words)
