"""COMMANDS §Parsing "Everyday forms": a message that starts with a command word (with particles,
我/已, punctuation or emoji) is never ignored silently; a message addressed to a colleague is not the
sender's command (issue 17 items 9–10)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parser import TABLE, Hint, Unknown, Usage, parse
from rules.normalize import is_junk, normalize
from tests.unit.test_corpus import _lines, outcome

# the spec's words, written out here rather than read from the parser (an independent oracle)
PARTICLES = ("了", "啦", "咯", "喽", "啊", "呀", "哈", "一下", "下")
PREFIXES = ("我", "已", "已经", "我已", "我已经")
_PARTICLE_RUN = re.compile("^(?:" + "|".join(PARTICLES) + ")*")


def starts_with_a_command_word(line: str) -> bool:
    """The word, its particles, then nothing, a space, a separator, or punctuation/emoji up to a space."""
    text = re.sub(r" +", " ", normalize(line)).strip()
    slash = text.startswith("/")
    body = text[1:].lstrip() if slash else text
    for b in (body, *(body[len(p):] for p in PREFIXES if body.startswith(p))):
        for w, verb in TABLE.items():
            if not b.startswith(w) or (verb.slash and not slash):
                continue
            rest = _PARTICLE_RUN.sub("", b[len(w):], count=1)
            if not rest or rest[0] in " ,、;:" or all(is_junk(ch) for ch in rest.split(" ", 1)[0]):
                return True
    return False


def answered(text: str) -> bool:
    """parse() gives a command, or raises the one-line usage/hint/unknown answer; False: silence."""
    try:
        return parse(text) is not None
    except (Usage, Hint, Unknown):
        return True


CORPUS = [p.values[0] for p in _lines()]
COMMAND_LINES = [t for t in CORPUS if starts_with_a_command_word(t)]


def test_the_oracle_sees_most_of_the_corpus_commands():
    assert len(COMMAND_LINES) >= 250


@given(st.sampled_from(COMMAND_LINES))
@settings(max_examples=300, deadline=None)
def test_a_corpus_line_starting_with_a_command_word_is_never_ignored_silently(line):
    assert answered(line), line


TAIL = st.one_of(
    st.just(""),
    st.sampled_from(["。", "！", "!!", "~", "～", "?", "？", "✅", "👍", "🙏", "😊", "…", "。。。"]),
    st.tuples(st.sampled_from([" ", "，", ",", "、", "：", "　"]), st.text(max_size=20)).map("".join),
)
WORDS = [w for w, v in TABLE.items() if not v.slash]


@given(mention=st.sampled_from(["", "@接待助手 ", "@接待助手"]), slash=st.sampled_from(["", "/", "／"]),
       prefix=st.sampled_from(("",) + PREFIXES), word=st.sampled_from(WORDS),
       particles=st.lists(st.sampled_from(PARTICLES), max_size=3).map("".join), tail=TAIL)
@settings(max_examples=500, deadline=None)
def test_every_everyday_form_of_a_command_word_is_answered(mention, slash, prefix, word, particles, tail):
    text = mention + slash + prefix + word + particles + tail
    assert starts_with_a_command_word(text), text
    assert answered(text), text


@pytest.mark.parametrize("line", [t for t in CORPUS if outcome(t) != "chat" and not t.lstrip().startswith("@")])
def test_a_command_addressed_to_a_colleague_is_not_the_senders(line):
    assert parse("@林峰 " + line) is None
    assert parse("@林峰　" + line) is None


@pytest.mark.parametrize("text, expected", [
    ("@接待助手 送客", "送客"), ("@接待助手送客了", "送客"), ("＠接待助手　回来了", "回来"),
])
def test_the_bots_own_mention_is_still_dropped(text, expected):
    verb, _ = parse(text)
    assert expected in verb.words
