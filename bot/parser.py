"""Text → command (COMMANDS.md). Normalise, find the verb, parse the arguments.

One verb table; a duplicate word fails at import. Ordinary chat parses to None.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import arguments as a
from bot.arguments import is_phone
from handlers import commands as c
from rules import texts as T
from rules.normalize import (
    MAX_TEXT,
    edit_distance_one,
    normalize,
    only_junk,
    space_phones,
    split_args,
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


def _help(args):
    """帮助 / 帮助 经理 / 帮助 到访 (also 帮助 /撤销): the topic's usage line comes from the verb table."""
    if len(args) > 1:
        raise ValueError
    topic = args[0].lstrip("/") if args else ""
    verb = TABLE.get(topic) if topic and topic != "经理" else None
    return c.HelpText(verb.words[0] if verb else topic, verb.usage if verb else "")


VERBS: list[Verb] = [
    Verb(("签到", "已签到"), a.none(c.SignIn), "签到 —— 到岗,开始排队"),
    Verb(("签退", "已签退"), a.none(c.SignOut), "签退 —— 今天下班,不再排队"),
    Verb(("请假",), a.none(c.Leave), "请假 —— 今天休息"),
    Verb(("暂离",), a.reason(c.StepOut), "暂离 [原因] —— 个人短暂离开(轮到时跳过,不补接)"),
    Verb(("外出",), a.reason(c.GoOut), "外出 [原因] —— 因公外出(保留位置,回来优先接待)"),
    Verb(("回来",), a.none(c.Back), "回来 —— 回到岗位"),
    Verb(("接待", "来客"), a.none(c.Receive), "接待 —— 我接待刚到的客户(仅当值者)"),
    Verb(("到访", "来访"), a.visit, "到访 姓名 手机 [点名 [同事]] [带访 老客户手机] [备注] —— 例:到访 张三 13812345678"),
    Verb(("非客",), a.non_buyer,
         "非客 类型 —— 同行/市调/建筑/装修/广告/记者/推销,或 问路/找人"),
    Verb(("代接",), a.phone_only(c.HelpReceive), "代接 手机 —— 替客户的归属人接待这位老客户"),
    Verb(("让",), a.name_helper, "让 甲 代接 —— （归属人在忙或不在时）指定甲代接我的老客户"),
    Verb(("送客",), a.see_off, "送客 [姓名或手机] —— 接待结束"),
    Verb(("跟进",), a.follow_up, "跟进 手机 内容 —— 记录跟进(续期归属);例:跟进 13812345678 电话沟通"),
    Verb(("成交",), a.deal, "成交 姓名 手机 [N套] [父母/配偶 登记姓名或手机] [备注] —— 例:成交 张三 13812345678 1套"),
    Verb(("更正",), a.correct_name, "更正 手机 新姓名 —— （归属人或经理）更正客户姓名，归属不变"),
    Verb(("申诉",), a.appeal, "申诉 手机 理由 —— 对成交归属提出申诉"),
    Verb(("查客",), a.lookup, "查客 手机 或 查客 姓名 —— 查询客户归属"),
    Verb(("我的客户",), a.none(c.MyCustomers), "我的客户 —— 私聊回复我的客户和到期时间"),
    Verb(("轮排", "排队", "下一位"), a.none(c.Board), "轮排 —— 查看今日轮排"),
    Verb(("帮助", "help"), _help, "帮助 [经理|命令] —— 命令列表,或一个命令的说明"),
    Verb(("我是",), a.whoami, "我是 姓名 [验证码] —— 把我的账号绑定到名单上的名字（经理 /确认 后生效；"
                             "经理本人用 reception-bot link 生成的验证码，私聊发送）"),
    Verb(("开班",), a.names(c.OpenDay, 0), "/开班 [甲 乙 丙…] —— 现在开班;带名字则今日按此顺序排队", True),
    Verb(("顺序",), a.names(c.SetOrder, 1), "/顺序 甲 乙 丙… —— 设置今日轮排顺序(须列出全部在队成员)", True),
    Verb(("补接",), a.one_name(c.GiveMakeup), "/补接 甲 —— 给甲一次补接", True),
    Verb(("跳过",), a.skip, "/跳过 甲 [原因] —— 甲无故不在,跳到队尾,不补接", True),
    Verb(("指派",), a.one_name(c.Assign), "/指派 甲 —— 下一位新客户由甲接待(计甲的名次)", True),
    Verb(("批准",), a.one_name(c.Approve), "/批准 甲 —— 允许接待中的甲再接一位新客户,或确认甲超时报的非客", True),
    Verb(("核实",), a.verify, "/核实 手机 同一人|不同人 —— 处理同名不同电话的登记", True),
    Verb(("裁定",), a.decide, "/裁定 手机 归 甲 [乙] —— 裁定客户归属或成交业绩(两人则分半)", True),
    Verb(("释放",), a.phone_only(c.Release), "/释放 手机 —— 把客户释放为公客", True),
    Verb(("撤销",), a.none(c.Undo), "/撤销 —— 撤销本项目今天最近一次变更", True),
    Verb(("记录",), a.log, "/记录 [甲] —— 今天的变更记录和原因", True),
    Verb(("日报",), a.none(c.DailySummary), "/日报 —— 现在发送今日汇总", True),
    Verb(("导出",), a.export, "/导出 [起始日期] [结束日期] —— 导出 Excel(登记、接待、成交)", True),
    Verb(("看板",), a.board_link, "/看板 [重置] —— 私聊发你看板和报表链接（重置：换新链接，旧链接失效）", True),
    Verb(("周报",), a.none(lambda: c.PeriodReport("week")), "/周报 —— 近 7 天的接待、登记、成交和图表", True),
    Verb(("月报",), a.none(lambda: c.PeriodReport("month")), "/月报 —— 本月的接待、登记、成交和图表", True),
    Verb(("成员",), a.roster, "/成员 添加|移除|经理|取消经理 甲 —— 调整名单或经理", True),
    Verb(("转移",), a.transfer, "/转移 甲 乙 —— 甲名下跟踪中的客户全部转给乙", True),
    Verb(("绑定",), a.bind,
         "/绑定 项目名 —— 把本群绑定到项目", True),
    Verb(("确认",), a.one_name(c.Confirm), "/确认 甲 —— 确认说「我是 甲」的账号是甲本人，绑定生效", True,
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
PHONE_WORDS = tuple(w for v in VERBS if "手机" in v.usage.split("——")[0] for w in v.words)
_SEP = " ,、;:"
_PARTICLES = "了的过啦吗呢吧着"     # 到访了 / 到访的客户 … is talk about the command, not the command


def parse(text: str) -> tuple[Verb, c.Command] | None:
    """(verb, command) for a command, None for ordinary chat; raises Usage, Unknown or Hint."""
    if len(text) > MAX_TEXT:
        head = normalize(text[:100])
        if _command_word(head[1:].lstrip() if head.startswith("/") else head, head.startswith("/")):
            raise Hint(TOO_LONG)
        return None
    text = re.sub(r" +", " ", space_phones(normalize(text))).strip()
    if only_junk(text):
        return None
    slash = text.startswith("/")
    body = text[1:].lstrip() if slash else text
    word = _command_word(body, slash)
    if word is None:
        if slash and body:
            first = body.split(" ", 1)[0]
            raise Unknown(first, closest(first))
        _near_miss(body)
        return None
    verb = TABLE[word]
    try:
        return verb, verb.parse(split_args(body[len(word):]))
    except (ValueError, IndexError):
        raise Usage(verb) from None


def command_verb(text: str) -> str:
    """The command word of `text` for a log line (never the text itself): `到访`, `/xyz?` or `chat`."""
    try:
        head = normalize(text[:100])
        slash = head.startswith("/")
        word = _command_word(head[1:].lstrip() if slash else head, slash)
        return word or ("/?" if slash else "chat")
    except Exception:               # a log line must not fail
        return "?"


def _command_word(body: str, slash: bool) -> str | None:
    """The command word `body` starts with: followed by nothing, a space, a separator, or punctuation
    and emoji only up to the next space (`签到。` `签到~` `接待!`); `签到表放哪了` is chat."""
    for w in _BY_LENGTH:
        if not body.startswith(w) or (TABLE[w].slash and not slash):
            continue
        rest = body[len(w):]
        if not rest or rest[0] in _SEP:
            return w
        head = rest.split(" ", 1)[0]
        if only_junk(head):
            return w
        if not slash and _glued_ok(body, w):
            return w
    return None


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
    return (word in ("到访", "来访", "成交", "跟进", "查客", "代接", "申诉") and len(glued) >= 2
            and glued[0] not in _PARTICLES and any(is_phone(t) for t in after))



