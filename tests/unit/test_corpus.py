"""COMMANDS §Parsing against tests/data/chat_corpus.tsv: real-looking group lines, each with its parse."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.parser import Hint, Unknown, Usage, parse
from handlers import commands as c

CORPUS = Path(__file__).resolve().parent.parent / "data" / "chat_corpus.tsv"


def _lines() -> list[tuple[str, str]]:
    rows = []
    for n, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            text, expected = line.split("\t")
            rows.append(pytest.param(text, expected, id=f"L{n}"))
    return rows


def outcome(text: str) -> str | c.Command:
    """What the bot makes of one line, in the corpus's words."""
    try:
        got = parse(text)
    except Usage as u:
        return f"usage {u.verb.words[0]}"
    except Unknown as u:
        return f"unknown {u.suggestion or '-'}"
    except Hint:
        return "hint"
    return "chat" if got is None else got[1]


def test_the_corpus_is_big_enough_and_covers_chat_and_commands():
    expected = [p.values[1] for p in _lines()]
    assert len(expected) >= 300
    assert expected.count("chat") >= 100 and sum(e.startswith("c.") for e in expected) >= 150


@pytest.mark.parametrize("text, expected", _lines())
def test_chat_line_parses_as_people_mean_it(text, expected):
    want = eval(expected, {"c": c}) if expected.startswith("c.") else expected  # noqa: S307 (our own file)
    assert outcome(text) == want
