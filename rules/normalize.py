"""聊天文字规范化 (COMMANDS §Parsing): the one normaliser behind the parser, the phone masking and names.

Pure text functions: the parser reads `normalize()`, the masking pass reads `fold_aligned()` (the same
folding, one character for one character, so a match can be cut out of the original text) and names
read `fold_name()`. The input boundary (`clean()`) runs before all of them.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rules import texts as T

MAX_TEXT = 2000                     # characters of one message (issue 11 item 6)
MAX_NAME = 20                       # RULES §5.1
SEPARATORS = ",、;"                 # after folding; ':' separates unless it sits between two digits
DOT = "·"
_DOTS = "•‧・･∙⋅"                    # bullets people type for the middle dot of 阿依·古丽
_DASHES = "‐‑‒–—―−﹘"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_TRANSLATE = str.maketrans({**{d: DOT for d in _DOTS}, **{d: "-" for d in _DASHES},
                            **{z: " " for z in _ZERO_WIDTH}})
# control characters (tab, newline and carriage return stay) and lone surrogates
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPLIT = re.compile(r"[\s,、;]+|(?<![0-9]):|:(?![0-9])")
# a mainland mobile as people type it: +86 / 0086 / (+86) first, spaces or dashes between digits
PHONE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ -]{0,3}|\(\+?86\)[ -]{0,3})?"
                   r"(1[ -]{0,3}[3-9](?:[ -]{0,3}[0-9]){9})(?![0-9])")
_KEEP_TRAILING = "*#%"              # 王** stays a placeholder, 138****5678 stays masked
BOT_NAME = "接待助手"                # the bot's own @mention (the adapters strip it; the console may not)
# everyday forms of a command word (COMMANDS §Parsing): 回来了, 暂离一下, 我回来了, 已回来, 我已经签到了;
# `下` only when no word follows (`暂离下` is 暂离一下, `暂离下楼拿快递` has the reason 下楼拿快递)
_PARTICLES = re.compile(r"^(?:一下|下(?!(?:一下|下|了|啦|咯|喽|啊|呀|哈)*+[^\W\d_])|了|啦|咯|喽|啊|呀|哈)+")
SELF_PREFIXES = ("我已经", "我已", "已经", "我", "已")


def clean(text: str) -> str:
    """The input boundary: NUL, control characters and lone surrogates removed."""
    return _CONTROL.sub("", text)


def fold(text: str) -> str:
    """Full-width → half-width (NFKC), `•‧・` → `·`, dashes → `-`, one space between words."""
    text = unicodedata.normalize("NFKC", clean(text)).translate(_TRANSLATE)
    return re.sub(r"\s+", " ", text).strip()


def normalize(text: str) -> str:
    """`fold`, and a leading @mention of the bot dropped (`@接待助手 签到`, also glued: `@接待助手签到`).
    An @mention of anyone else stays: such a message is addressed to that person (COMMANDS §Parsing)."""
    text = fold(text)
    while text.startswith("@"):
        rest = text[1:]
        if rest.startswith(BOT_NAME):
            rest = rest[len(BOT_NAME):]
        elif rest[:1] not in ("", " "):
            break                       # `@林峰 送客`: addressed to 林峰
        text = rest.lstrip(" " + SEPARATORS + ":")
    return text.strip()


def addressed_to_someone(text: str) -> bool:
    """A normalised message whose first word is an @mention of someone other than the bot."""
    return text.startswith("@")


def particles(rest: str) -> int:
    """How many leading characters of `rest` are everyday particles: `回来了` `回来啦` `暂离一下` `签到下`."""
    mt = _PARTICLES.match(rest)
    return mt.end() if mt else 0


def without_self_prefix(text: str) -> list[str]:
    """`text` without each 我/已 prefix it starts with, longest first: `我已经签到了` → `签到了`, …"""
    return [text[len(p):] for p in SELF_PREFIXES if text.startswith(p) and len(text) > len(p)]


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    f = unicodedata.normalize("NFKC", ch).translate(_TRANSLATE)
    if len(f) != 1:
        return ch
    return " " if f.isspace() else f


def fold_aligned(text: str) -> str:
    """The same folding as `normalize`, character for character (same length, same positions)."""
    return "".join(map(_fold_char, text))


def is_junk(ch: str) -> bool:
    """Punctuation, symbols and emoji parts (variation selectors, joiners, skin tones)."""
    cat = unicodedata.category(ch)
    return cat[0] in "PS" or ch in "\ufe0e\ufe0f\u200d\u20e3"


def strip_junk(word: str) -> str:
    """`张三！` → `张三`, `「张三」` → `张三`, `✅` → ``; leading '-' and '+' stay (`-5套`, `+86`)."""
    end = len(word)
    while end and is_junk(word[end - 1]) and word[end - 1] not in _KEEP_TRAILING:
        end -= 1
    start = 0
    while start < end and _opening(word[start]):
        start += 1
    return word[start:end]


def _opening(ch: str) -> bool:
    return unicodedata.category(ch) in ("Ps", "Pi", "Pf") or ch in "\"'"


def only_junk(text: str) -> bool:
    """A message of only punctuation, emoji and spaces is chat."""
    return all(is_junk(ch) or ch.isspace() for ch in text)


def space_phones(text: str) -> str:
    """Every typed phone as its 11 digits with a space either side: `李娟(+86)139-1234-5678` → `李娟 13912345678 `."""
    return PHONE.sub(lambda mt: " " + re.sub(r"[ -]", "", mt.group(1)) + " ", text)


def split_args(text: str) -> list[str]:
    """Arguments: split on spaces and `，,、;；：:`, trailing punctuation/emoji dropped, empties dropped."""
    return [w for w in (strip_junk(t) for t in _SPLIT.split(text)) if w]


def fold_name(name: str) -> str:
    """A name as compared and stored: normalised, `•` → `·`, @ and surrounding punctuation dropped."""
    return strip_junk(fold(name).lstrip("@").strip())


def member_name_problem(name: str) -> str | None:
    """A roster name (display name): 1–20 characters, letters not only punctuation or digits."""
    if not name or only_junk(name):
        return T.MEMBER_NAME_EMPTY
    if len(name) > MAX_NAME:
        return T.MEMBER_NAME_LONG.format(limit=MAX_NAME)
    if name.isdigit() or "@" in name:
        return T.MEMBER_NAME_DIGITS
    return None


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_TENS = re.compile(r"^([一二两三四五六七八九])?十([一二三四五六七八九])?")


def chinese_int(s: str) -> int | None:
    """一 … 九十九 (and 两) as an int; None when `s` is not such a numeral."""
    if s in _CN_DIGITS:
        return _CN_DIGITS[s]
    mt = _CN_TENS.fullmatch(s)
    if not mt:
        return None
    return (_CN_DIGITS[mt.group(1)] if mt.group(1) else 1) * 10 + (_CN_DIGITS[mt.group(2)] if mt.group(2) else 0)


_CAPITALS = str.maketrans({"壹": "一", "贰": "二", "貳": "二", "叁": "三", "參": "三", "肆": "四", "伍": "五",
                           "陆": "六", "陸": "六", "柒": "七", "捌": "八", "玖": "九", "拾": "十"})
_CAPITAL_UNITS = re.compile(r"^(?:共|一共|总共)?[壹贰貳叁參肆伍陆陸柒捌玖拾]+(?:套|台|辆|户)?(?:房|房子)?")
_HAN = re.compile("^[\u3400-\u9fff\U00020000-\U0003ffff]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def small_numerals(tok: str) -> str:
    """大写 numerals as written on contracts, when the word is only a number (and its measure word):
    `叁套` → `三套`, `拾贰套` → `十二套`; a name with such a character (`伍佰`) is left alone by the caller."""
    return tok.translate(_CAPITALS) if _CAPITAL_UNITS.fullmatch(tok) else tok


def join_spaced_name(tokens: list[str]) -> list[str]:
    """`冯 晓 峰 138…` → `冯晓峰 138…`: single Chinese characters typed apart before the phone are one
    name (COMMANDS §Parsing); anything else is returned as it is."""
    at = next((i for i, t in enumerate(tokens) if _MOBILE.fullmatch(t)), -1)
    head = tokens[:at]
    if len(head) < 2 or len(head) > 6 or not all(len(t) == 1 and _HAN.fullmatch(t) for t in head):
        return tokens
    return ["".join(head), *tokens[at:]]


def edit_distance_one(a: str, b: str) -> bool:
    """True when `a` becomes `b` by exactly one insertion, deletion or substitution."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
