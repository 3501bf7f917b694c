"""Text → command (COMMANDS.md). Normalise, find the verb, parse the arguments.

One verb table; a duplicate word fails at import. Ordinary chat parses to None.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot import arguments as a
from bot.arguments import is_phone
from handlers import commands as c
from rules import texts as T
from rules.normalize import (
    MAX_TEXT,
    addressed_to_someone,
    edit_distance_one,
    is_junk,
    join_spaced_name,
    normalize,
    only_junk,
    particles,
    small_numerals,
    space_phones,
    split_args,
    without_self_prefix,
)


class Usage(Exception):
    """Right verb, wrong arguments: reply with the usage line."""

    def __init__(self, verb: Verb):
        super().__init__(verb.usage)
        self.verb = verb


class Hint(Exception):
    """Not a command, but worth one line: a near-miss command word, or a command that is too long."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class Unknown(Exception):
    """An unknown /word; `suggestion` is the closest command word or None."""

    def __init__(self, word: str, suggestion: str | None):
        super().__init__(word)
        self.word, self.suggestion = word, suggestion


@dataclass(frozen=True)
class Verb:
    words: tuple[str, ...]
    parse: Callable[[list[str]], c.Command]
    usage: str
    manager: bool = False
    slash: bool = False         # a common chat word: a command only with the leading /
    # the everyday forms (COMMANDS §Parsing): NOTE: a reason after punctuation or emoji is taken and
    # dropped (`签到🙏不好意思堵车`); ARG: text glued to the word is its reason argument (`外出办事`)
    reason: str = ""
    closing: str = ""           # the word that ends the form: `让林峰代接` is `让 林峰 代接`
    phone: bool = False         # takes a customer's phone (a near miss with a phone gets a hint)
    glued_name: bool = False    # the name may be glued to the word: `到访张三 138…`


NOTE, ARG = "note", "arg"


def _help(args):
    """帮助 / 帮助 经理 / 帮助 到访 (also 帮助 /撤销): the topic's usage line comes from the verb table."""
    if len(args) > 1:
        raise ValueError
    topic = args[0].lstrip("/") if args else ""
    verb = TABLE.get(topic) if topic and topic != "经理" else None
    return c.HelpText(verb.words[0] if verb else topic, verb.usage if verb else "")


_MASKED = re.compile(r"(1[3-9][0-9])[*xX×]{3,5}([0-9]{4})")


def _masked(parse: Callable[[list[str]], c.Command]) -> Callable[[list[str]], c.Command]:
    """A phone as the bot prints it (`139****0003`, also `＊` or `×` typed by hand) is taken where a
    phone goes, and reaches the handler as `139****0003`: the handler finds the one customer of the
    project it matches (COMMANDS §Parsing). The arguments parse with an 11-digit stand-in."""
    def wrapped(args: list[str]) -> c.Command:
        stand_ins: dict[str, str] = {}
        out = []
        for tok in args:
            mt = _MASKED.fullmatch(tok)
            if mt is not None:
                tok = next(p for i in range(100) if (p := f"{mt.group(1)}{i:04d}{mt.group(2)}") not in args
                           and p not in stand_ins)
                stand_ins[tok] = f"{mt.group(1)}****{mt.group(2)}"
            out.append(tok)
        cmd = parse(out)
        changes = {}
        for f in dataclasses.fields(cmd):
            value = getattr(cmd, f.name)
            if isinstance(value, str) and any(x in value for x in stand_ins):
                for x, shown in stand_ins.items():
                    value = value.replace(x, shown)
                changes[f.name] = value
        return dataclasses.replace(cmd, **changes) if changes else cmd
    return wrapped


def _visit(args: list[str]) -> c.Command:
    """到访: `冯 晓 峰 138…` is the one name 冯晓峰; `到访 手机` alone is the owner's 接手 (RULES §3.12)."""
    try:
        return _masked(a.phone_only(lambda phone: c.TakeOver(phone, by_visit=True)))(args)
    except ValueError:
        return a.visit(join_spaced_name(args))


def _receive(args: list[str]) -> c.Command:
    """接待 alone takes the walk-in; `接待 张三 138…` takes it and registers the visit in one go (到访)."""
    if any(is_phone(t) for t in args):
        return _visit(args)
    return c.Receive()


def _deal(args: list[str]) -> c.Command:
    """成交: `叁套` is 三套, and a bare number 1–99 at the end is the units (`成交 张三 138… 3`)."""
    args = join_spaced_name(args)
    if len(args) >= 3 and re.fullmatch(r"[1-9][0-9]?|[壹贰貳叁參肆伍陆陸柒捌玖拾]{1,3}", args[-1]):
        args = [*args[:-1], args[-1] + "套"]
    args = [args[0], *(small_numerals(t) for t in args[1:])] if args else args
    return a.deal(args)


VERBS: list[Verb] = [
    Verb(("签到", "已签到"), a.none(c.SignIn), T.USAGES["签到"], reason=NOTE),
    Verb(("签退", "已签退"), a.none(c.SignOut), T.USAGES["签退"], reason=NOTE),
    Verb(("请假",), a.none(c.Leave), T.USAGES["请假"], reason=NOTE),
    Verb(("暂离",), a.reason(c.StepOut), T.USAGES["暂离"], reason=ARG),
    Verb(("外出",), a.reason(c.GoOut), T.USAGES["外出"], reason=ARG),
    Verb(("回来",), a.none(c.Back), T.USAGES["回来"], reason=NOTE),
    Verb(("接待", "来客"), _receive, T.USAGES["接待"]),
    Verb(("到访", "来访"), _visit, T.USAGES["到访"], phone=True, glued_name=True),
    Verb(("非客",), a.non_buyer,
         T.USAGES["非客"]),
    Verb(("代接",), _masked(a.phone_only(c.HelpReceive)), T.USAGES["代接"], phone=True, glued_name=True),
    Verb(("让",), a.name_helper, T.USAGES["让"], closing="代接"),
    Verb(("接手",), _masked(a.phone_only(c.TakeOver)), T.USAGES["接手"], phone=True),
    Verb(("不接",), a.none(c.Decline), T.USAGES["不接"]),
    Verb(("送客",), a.see_off, T.USAGES["送客"], phone=True),
    Verb(("跟进",), _masked(a.follow_up), T.USAGES["跟进"], phone=True, glued_name=True),
    Verb(("成交",), _deal, T.USAGES["成交"], phone=True, glued_name=True),
    Verb(("更正",), _masked(a.correct), T.USAGES["更正"], phone=True),
    Verb(("申诉",), _masked(a.appeal), T.USAGES["申诉"], phone=True, glued_name=True),
    Verb(("查客",), _masked(a.lookup), T.USAGES["查客"], phone=True, glued_name=True),
    Verb(("我的客户",), a.none(c.MyCustomers), T.USAGES["我的客户"]),
    Verb(("轮排", "排队", "下一位"), a.none(c.Board), T.USAGES["轮排"]),
    Verb(("帮助", "help"), _help, T.USAGES["帮助"]),
    Verb(("我是",), a.whoami, T.USAGES["我是"]),
    Verb(("开班",), a.names(c.OpenDay, 0), T.USAGES["开班"], True),
    Verb(("顺序",), a.names(c.SetOrder, 1), T.USAGES["顺序"], True),
    Verb(("补接",), a.one_name(c.GiveMakeup), T.USAGES["补接"], True),
    Verb(("跳过",), a.skip, T.USAGES["跳过"], True),
    Verb(("驳回",), a.name_and_reason(c.Withdraw), T.USAGES["驳回"], True),
    Verb(("指派",), a.one_name(c.Assign), T.USAGES["指派"], True),
    Verb(("批准",), a.one_name(c.Approve), T.USAGES["批准"], True),
    Verb(("核实",), _masked(a.verify), T.USAGES["核实"], True, phone=True),
    Verb(("裁定",), _masked(a.decide), T.USAGES["裁定"], True, phone=True),
    Verb(("释放",), _masked(a.phone_only(c.Release)), T.USAGES["释放"], True, phone=True),
    Verb(("撤销",), a.none(c.Undo), T.USAGES["撤销"], True),
    Verb(("记录",), a.log, T.USAGES["记录"], True),
    Verb(("日报",), a.none(c.DailySummary), T.USAGES["日报"], True),
    Verb(("导出",), a.export, T.USAGES["导出"], True),
    Verb(("看板",), a.board_link, T.USAGES["看板"], True),
    Verb(("报表",), a.report_link, T.USAGES["报表"], True),
    Verb(("周报",), a.period("week"), T.USAGES["周报"], True),
    Verb(("月报",), a.period("month"), T.USAGES["月报"], True),
    Verb(("成员",), a.roster, T.USAGES["成员"], True),
    Verb(("转移",), a.transfer, T.USAGES["转移"], True),
    Verb(("绑定",), a.bind,
         T.USAGES["绑定"], True),
    Verb(("确认",), a.one_name(c.Confirm), T.USAGES["确认"], True,
         slash=True),
]


def _table() -> dict[str, Verb]:
    table: dict[str, Verb] = {}
    for v in VERBS:
        for w in v.words:
            if w in table:
                raise RuntimeError(f"命令词重复: {w}")
            table[w] = v
    return table


TABLE = _table()
_BY_LENGTH = sorted(TABLE, key=len, reverse=True)


TOO_LONG = T.TOO_LONG.format(limit=MAX_TEXT)
PHONE_WORDS = tuple(w for v in VERBS if v.phone for w in v.words)
_SEP = " ,、;:"
_PARTICLES = "了的过啦吗呢吧着"     # 到访了 / 到访的客户 … is talk about the command, not the command
_NOT_A_MARK = "?\"'"                # `签到？不是9点吗` `签到”是什么意思`: a question or a quote is chat


def parse(text: str) -> tuple[Verb, c.Command] | None:
    """(verb, command) for a command, None for ordinary chat; raises Usage, Unknown or Hint."""
    if len(text) > MAX_TEXT:
        head = normalize(text[:100])
        if _command(head[1:].lstrip() if head.startswith("/") else head, head.startswith("/")):
            raise Hint(TOO_LONG)
        return None
    text = re.sub(r" +", " ", space_phones(normalize(text))).strip()
    if only_junk(text) or addressed_to_someone(text):     # `@林峰 送客` is not the sender's 送客
        return None
    slash = text.startswith("/")
    body = text[1:].lstrip() if slash else text
    found = _command(body, slash)
    if found is None:
        if slash and body:
            first = body.split(" ", 1)[0]
            raise Unknown(first, closest(first))
        _near_miss(body)
        return None
    verb, args = TABLE[found[0]], found[1]
    try:
        return verb, verb.parse(split_args(args))
    except (ValueError, IndexError):
        raise Usage(verb) from None


def command_verb(text: str) -> str:
    """The command word of `text` for a log line (never the text itself): `到访`, `/xyz?` or `chat`."""
    try:
        head = normalize(text[:100])
        slash = head.startswith("/")
        found = _command(head[1:].lstrip() if slash else head, slash)
        return found[0] if found else ("/?" if slash else "chat")
    except Exception:               # a log line must not fail
        return "?"


def _command(body: str, slash: bool) -> tuple[str, str] | None:
    """(command word, argument text) when `body` starts with a command word in one of its forms,
    also after 我 / 已 (`我回来了`, `已经签到了`); None for chat."""
    for text in (body, *without_self_prefix(body)):
        for w in _BY_LENGTH:
            if text.startswith(w) and (slash or not TABLE[w].slash):
                args = _form(TABLE[w], text, w, slash)
                if args is not None:
                    return w, args
    return None


def _form(verb: Verb, body: str, word: str, slash: bool) -> str | None:
    """The argument text when `body` is `word` followed by nothing, a space, a separator, or particles
    and punctuation/emoji only up to the next space (`签到。` `回来啦～` `送客了 张三`), or a form of its
    Verb row (`外出办事` `签到🙏堵车` `让林峰代接`); None: `word` is part of chat (`签到表放哪了`)."""
    rest = body[len(word):]
    if verb.closing and verb.closing in rest:
        before, after = rest.split(verb.closing, 1)
        return f"{before} {verb.closing} {after[particles(after):]}"
    glued = rest[particles(rest):]
    if not glued or glued[0] in _SEP or only_junk(glued.split(" ", 1)[0]):
        return glued
    if verb.reason and _mark(glued[0]):
        return glued[next(i for i, ch in enumerate(glued) if not is_junk(ch)):]
    if verb.reason == ARG and rest[0] not in _PARTICLES:
        return glued
    return rest if not slash and _glued_ok(body, word) else None


def _mark(ch: str) -> bool:
    """Punctuation or emoji between a command word and its reason (`签到🙏堵车`), not a question mark,
    a closing bracket or a quote (`签到？不是9点吗`, `签到”是什么意思` are chat)."""
    return is_junk(ch) and ch not in _NOT_A_MARK and unicodedata.category(ch) not in ("Pe", "Pf")


def _near_miss(body: str) -> None:
    """`到方 张三 138…`: a message with a phone whose first word is one edit from a command word."""
    words = split_args(body)
    if len(words) < 2 or len(words[0]) < 2 or not any(is_phone(t) for t in words[1:]):
        return
    for w in PHONE_WORDS:
        if edit_distance_one(words[0], w):
            raise Hint(T.NEAR_MISS.format(word=w, form=TABLE[w].usage.split("——")[0].strip()))


def closest(word: str) -> str | None:
    """The command word most like `word` (errbot-style difflib); ties go to the same first character."""
    def score(w: str) -> tuple[float, bool]:
        return difflib.SequenceMatcher(None, word, w).ratio(), w[:1] == word[:1]
    best = max(TABLE, key=score)
    return best if score(best)[0] >= 0.3 else None


def _glued_ok(body: str, word: str) -> bool:
    """'到访张三 138…' (and `到访李娟13912345678`) is a command too; '接待了一位客户' is chat."""
    glued, *after = body[len(word):].split(" ")
    return (TABLE[word].glued_name and len(glued) >= 2
            and glued[0] not in _PARTICLES and any(is_phone(t) for t in after))



