"""Text → command (COMMANDS.md). Normalise, find the verb, parse the arguments.

One verb table; a duplicate word fails at import. Ordinary chat parses to None.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from handlers import commands as c
from rules.customers import RELATIONS


class Usage(Exception):
    """Right verb, wrong arguments: reply with the usage line."""

    def __init__(self, verb: Verb):
        super().__init__(verb.usage)
        self.verb = verb


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


_PHONE_PIECE = re.compile(r"^\+?\d[\d\-]*$")


def take_phone(tokens: list[str]) -> tuple[str | None, list[str]]:
    """The first phone-looking run of tokens ('138 1234 5678', '+86 138…'), and the other tokens."""
    for i, tok in enumerate(tokens):
        if _PHONE_PIECE.match(tok):
            j, digits = i + 1, len(re.sub(r"\D", "", tok))
            while j < len(tokens) and re.fullmatch(r"[\d\-]+", tokens[j]) and digits < 11 + (
                    2 if tok.startswith("+86") or tok == "+86" else 0):
                digits += len(re.sub(r"\D", "", tokens[j]))
                j += 1
            return "".join(tokens[i:j]), tokens[:i] + tokens[j:]
    return None, tokens


def _name(tok: str) -> str:
    return tok.lstrip("@")


def _none(cls):
    def parse(args):
        return cls()
    return parse


def _reason(cls):
    return lambda args: cls(" ".join(args))


def _one_name(cls):
    def parse(args):
        if len(args) != 1:
            raise ValueError
        return cls(_name(args[0]))
    return parse


def _phone_only(cls):
    def parse(args):
        phone, rest = take_phone(args)
        if not phone or rest:
            raise ValueError
        return cls(phone)
    return parse


def _visit(args):
    if not args:
        raise ValueError
    name, rest = args[0], args[1:]
    phone, rest = take_phone(rest)
    if not phone:
        raise ValueError
    named = "点名" in rest
    rest = [t for t in rest if t != "点名"]
    referrer = None
    if "带访" in rest:
        i = rest.index("带访")
        referrer, tail = take_phone(rest[i + 1:])
        if not referrer:
            raise ValueError
        rest = rest[:i] + tail
    return c.Visit(name, phone, named, referrer, " ".join(rest))


def _deal(args):
    if len(args) < 2:
        raise ValueError
    name = args[0]
    phone, rest = take_phone(args[1:])
    if not phone:
        raise ValueError
    units, relation, note = 1, "", []
    for tok in rest:
        m = re.fullmatch(r"(\d+)(套|台|辆|户)", tok)
        if m:
            units = int(m.group(1))
        elif tok in RELATIONS and not relation:
            relation = RELATIONS[tok]
        else:
            note.append(tok)
    if units < 1:
        raise ValueError
    return c.RecordDeal(name, phone, units, relation, " ".join(note))


def _follow_up(args):
    if len(args) < 2:
        raise ValueError
    phone, rest = take_phone(args)
    if phone and rest:
        return c.FollowUp(phone, " ".join(rest))
    return c.FollowUp(args[0], " ".join(args[1:]))


def _appeal(args):
    phone, rest = take_phone(args)
    if not phone or not rest:
        raise ValueError
    return c.Appeal(phone, " ".join(rest))


def _key(cls):
    def parse(args):
        if not args:
            raise ValueError
        phone, rest = take_phone(args)
        if phone and not rest:
            return cls(phone)
        if len(args) != 1:
            raise ValueError
        return cls(args[0])
    return parse


def _see_off(args):
    if not args:
        return c.SeeOff()
    phone, rest = take_phone(args)
    return c.SeeOff(phone if phone and not rest else " ".join(args))


def _names(cls, at_least: int):
    def parse(args):
        names = tuple(_name(a) for a in args)
        if len(names) < at_least or len(set(names)) != len(names):
            raise ValueError
        return cls(names)
    return parse


def _skip(args):
    if not args:
        raise ValueError
    return c.Skip(_name(args[0]), " ".join(args[1:]))


def _verify(args):
    phone, rest = take_phone(args)
    if not phone or rest not in (["同一人"], ["不同人"]):
        raise ValueError
    return c.Verify(phone, rest == ["同一人"])


def _decide(args):
    phone, rest = take_phone(args)
    if rest and rest[0] == "归":
        rest = rest[1:]
    names = tuple(_name(a) for a in rest)
    if not phone or not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        raise ValueError
    return c.Decide(phone, names)


def _export(args):
    if len(args) > 2 or not all(re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", a) for a in args):
        raise ValueError
    return c.Export(*args)


def _roster(args):
    if len(args) != 2 or args[0] not in ("添加", "移除", "经理"):
        raise ValueError
    return c.Roster(args[0], _name(args[1]))


def _whoami(args):
    if len(args) != 1:
        raise ValueError
    return c.WhoAmI(_name(args[0]))


def _help(args):
    """帮助 / 帮助 经理 / 帮助 到访 (also 帮助 /撤销): the topic's usage line comes from the verb table."""
    if len(args) > 1:
        raise ValueError
    topic = args[0].lstrip("/") if args else ""
    verb = TABLE.get(topic) if topic and topic != "经理" else None
    return c.HelpText(verb.words[0] if verb else topic, verb.usage if verb else "")


def _log(args):
    if len(args) > 1:
        raise ValueError
    return c.ShowLog(_name(args[0]) if args else "")


VERBS: list[Verb] = [
    Verb(("签到",), _none(c.SignIn), "签到 —— 到岗,开始排队"),
    Verb(("签退",), _none(c.SignOut), "签退 —— 今天下班,不再排队"),
    Verb(("请假",), _none(c.Leave), "请假 —— 今天休息"),
    Verb(("暂离",), _reason(c.StepOut), "暂离 [原因] —— 个人短暂离开(轮到时跳过,不补接)"),
    Verb(("外出",), _reason(c.GoOut), "外出 [原因] —— 因公外出(保留位置,回来优先接待)"),
    Verb(("回来",), _none(c.Back), "回来 —— 回到岗位"),
    Verb(("接待", "来客"), _none(c.Receive), "接待 —— 我接待刚到的客户(仅当值者)"),
    Verb(("到访",), _visit, "到访 姓名 手机 [点名] [带访 老客户手机] [备注] —— 例:到访 张三 13812345678"),
    Verb(("非客",), lambda a: c.NonBuyer(a[0]) if len(a) == 1 else (_ for _ in ()).throw(ValueError),
         "非客 类型 —— 同行/市调/建筑/装修/广告/记者/推销,或 问路/找人"),
    Verb(("代接",), _phone_only(c.HelpReceive), "代接 手机 —— 替客户的归属人接待这位老客户"),
    Verb(("送客",), _see_off, "送客 [姓名或手机] —— 接待结束"),
    Verb(("跟进",), _follow_up, "跟进 手机 内容 —— 记录跟进(续期归属);例:跟进 13812345678 电话沟通"),
    Verb(("成交",), _deal, "成交 姓名 手机 [N套] [父母/配偶] [备注] —— 例:成交 张三 13812345678 1套"),
    Verb(("申诉",), _appeal, "申诉 手机 理由 —— 对成交归属提出申诉"),
    Verb(("查客",), _key(c.Lookup), "查客 手机 或 查客 姓名 —— 查询客户归属"),
    Verb(("我的客户",), _none(c.MyCustomers), "我的客户 —— 私聊回复我的客户和到期时间"),
    Verb(("轮排", "排队", "下一位"), _none(c.Board), "轮排 —— 查看今日轮排"),
    Verb(("帮助", "help"), lambda a: _help(a), "帮助 [经理|命令] —— 命令列表,或一个命令的说明"),
    Verb(("我是",), _whoami, "我是 姓名 —— 把我的账号绑定到名单上的名字"),
    Verb(("开班",), _names(c.OpenDay, 0), "/开班 [甲 乙 丙…] —— 现在开班;带名字则今日按此顺序排队", True),
    Verb(("顺序",), _names(c.SetOrder, 1), "/顺序 甲 乙 丙… —— 设置今日轮排顺序(须列出全部在队成员)", True),
    Verb(("补接",), _one_name(c.GiveMakeup), "/补接 甲 —— 给甲一次补接", True),
    Verb(("跳过",), _skip, "/跳过 甲 [原因] —— 甲无故不在,跳到队尾,不补接", True),
    Verb(("指派",), _one_name(c.Assign), "/指派 甲 —— 下一位新客户由甲接待(计甲的名次)", True),
    Verb(("批准",), _one_name(c.Approve), "/批准 甲 —— 允许接待中的甲再接一位新客户,或确认甲超时报的非客", True),
    Verb(("核实",), _verify, "/核实 手机 同一人|不同人 —— 处理同名不同电话的登记", True),
    Verb(("裁定",), _decide, "/裁定 手机 归 甲 [乙] —— 裁定客户归属或成交业绩(两人则分半)", True),
    Verb(("释放",), _phone_only(c.Release), "/释放 手机 —— 把客户释放为公客", True),
    Verb(("撤销",), _none(c.Undo), "/撤销 —— 撤销本项目今天最近一次变更", True),
    Verb(("记录",), _log, "/记录 [甲] —— 今天的变更记录和原因", True),
    Verb(("日报",), _none(c.DailySummary), "/日报 —— 现在发送今日汇总", True),
    Verb(("导出",), _export, "/导出 [起始日期] [结束日期] —— 导出 Excel(登记、接待、成交)", True),
    Verb(("成员",), _roster, "/成员 添加|移除|经理 甲 —— 调整名单", True),
    Verb(("绑定",), lambda a: c.Bind(" ".join(a)) if a else (_ for _ in ()).throw(ValueError),
         "/绑定 项目名 —— 把本群绑定到项目", True),
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


def normalize(text: str) -> str:
    """Full-width → half-width, one space between words, leading @mentions stripped."""
    text = unicodedata.normalize("NFKC", text).replace("\u3000", " ")
    text = re.sub(r"\s+", " ", text).strip()
    while text.startswith("@"):
        text = text.split(" ", 1)[1] if " " in text else ""
    return text.strip()


def parse(text: str) -> tuple[Verb, c.Command] | None:
    """(verb, command) for a command, None for ordinary chat; raises Usage or Unknown."""
    text = normalize(text)
    slash = text.startswith("/")
    body = text[1:].lstrip() if slash else text
    word = next((w for w in _BY_LENGTH if body == w or body.startswith(w + " ")
                 or (body.startswith(w) and not slash and _glued_ok(body, w))), None)
    if word is None:
        if slash and body:
            first = body.split(" ", 1)[0]
            raise Unknown(first, closest(first))
        return None
    verb = TABLE[word]
    args = body[len(word):].split()
    try:
        return verb, verb.parse(args)
    except (ValueError, IndexError):
        raise Usage(verb) from None


def closest(word: str) -> str | None:
    """The command word most like `word` (errbot-style difflib); ties go to the same first character."""
    def score(w: str) -> tuple[float, bool]:
        return difflib.SequenceMatcher(None, word, w).ratio(), w[:1] == word[:1]
    best = max(TABLE, key=score)
    return best if score(best)[0] >= 0.3 else None


def _glued_ok(body: str, word: str) -> bool:
    """'到访张三 138…' is a command too; '接待了一位客户' is chat."""
    rest = body[len(word):]
    return word in ("到访", "成交", "跟进", "查客", "代接", "申诉") and " " in rest



