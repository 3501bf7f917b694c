"""The arguments of each command (COMMANDS.md): phones, names, units, options; ValueError = usage line.

Every function here takes the arguments already split by the normaliser (rules/normalize.py) and builds
one command dataclass.
"""
from __future__ import annotations

import re

from handlers import commands as c
from rules.customers import COMPOUND_SURNAMES, OTHER_RELATIONS, RELATIONS, masked_parts
from rules.normalize import chinese_int, fold_name

_PHONE_PIECE = re.compile(r"^\+?\d[\d\-]*$")
_UNIT = re.compile(r"(?:共|一共|总共)?(-?[0-9]+|[零〇一二两三四五六七八九十百千万]+)(套|台|辆|户)(?:房|房子)?")
_HAN = re.compile("[\u3400-\u9fff\U00020000-\U0003ffff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'.\-]*")


def is_phone(tok: str) -> bool:
    return bool(re.fullmatch(r"1[3-9][0-9]{9}", tok))


def take_phone(tokens: list[str]) -> tuple[str | None, list[str]]:
    """The first phone (a clean mobile first, else a phone-looking run such as '138 1234 567' so the
    handler can say why it is wrong), and the other tokens."""
    for i, tok in enumerate(tokens):
        if is_phone(tok):
            return tok, tokens[:i] + tokens[i + 1:]
    for i, tok in enumerate(tokens):
        if _PHONE_PIECE.match(tok) and not _UNIT.fullmatch(tok):
            j, digits = i + 1, len(re.sub(r"\D", "", tok))
            while j < len(tokens) and re.fullmatch(r"[\d\-]+", tokens[j]) and digits < 11:
                digits += len(re.sub(r"\D", "", tokens[j]))
                j += 1
            return "".join(tokens[i:j]), tokens[:i] + tokens[j:]
    return None, tokens


def take_name(tokens: list[str]) -> tuple[str, list[str]]:
    """The first argument is the name; a Latin full name keeps its words together (`Tom Hanks`), and a
    Chinese name typed with a space after the surname (`张 三`) is one name."""
    if not tokens:
        raise ValueError
    n = 1
    if _LATIN.fullmatch(tokens[0]):
        while n < min(len(tokens), 4) and _LATIN.fullmatch(tokens[n]) and tokens[n] not in OPTION_WORDS:
            n += 1
        return " ".join(tokens[:n]), tokens[n:]
    surname = _HAN.fullmatch(tokens[0]) or tokens[0] in COMPOUND_SURNAMES
    if len(tokens) > 1 and surname and re.fullmatch(r"[^\W\d_]{1,2}", tokens[1]) \
            and all(_HAN.fullmatch(ch) for ch in tokens[1]) and tokens[1] not in OPTION_WORDS:
        return tokens[0] + tokens[1], tokens[2:]
    return tokens[0], tokens[1:]


def units_of(tok: str) -> int | None:
    """`3套` `三套` `两套` `共3套` `3套房` → the units; None when `tok` is no units word at all.
    A units word out of 1–99 (`0套` `-5套` `999999999999套`) raises ValueError (the usage line)."""
    mt = _UNIT.fullmatch(tok)
    if not mt:
        if re.search(r"[0-9]", tok) and re.search(r"(套|台|辆|户)(房|房子)?$", tok):
            raise ValueError            # 2^31套, 3.5套
        return None
    raw = mt.group(1)
    value = int(raw) if re.fullmatch(r"-?[0-9]+", raw) else chinese_int(raw)
    if value is None or not 1 <= value <= 99:
        raise ValueError
    return value


OPTION_WORDS = ("点名", "带访")


def _join_units(tokens: list[str]) -> list[str]:
    """`3 套` → `3套`, `共 3 套` → `共3套`: a number and its measure word typed apart."""
    out: list[str] = []
    for tok in tokens:
        if out and re.fullmatch(r"(套|台|辆|户)(房|房子)?", tok) and re.fullmatch(
                r"(共|一共|总共)?-?([0-9]+|[零〇一二两三四五六七八九十]+)", out[-1]):
            out[-1] += tok
        elif out and out[-1] in ("共", "一共", "总共") and re.match(r"-?[0-9]|[一二两三四五六七八九十]", tok):
            out[-1] += tok
        else:
            out.append(tok)
    return out


def member_name(tok: str) -> str:
    return fold_name(tok)


def none(cls):
    def parse(args):
        return cls()
    return parse


def reason(cls):
    return lambda args: cls(" ".join(args))


def one_name(cls):
    def parse(args):
        if len(args) != 1 or not member_name(args[0]):
            raise ValueError
        return cls(member_name(args[0]))
    return parse


def phone_only(cls):
    def parse(args):
        phone, rest = take_phone(args)
        if not phone or rest:
            raise ValueError
        return cls(phone)
    return parse


def visit(args):
    named, named_for, rest = "点名" in args, "", list(args)
    if named:
        i = rest.index("点名")
        if i + 1 < len(rest) and rest[i + 1] not in OPTION_WORDS and not _PHONE_PIECE.match(rest[i + 1]):
            named_for = member_name(rest.pop(i + 1))    # 点名 甲 (the handler decides if 甲 is a colleague)
    rest = [t for t in rest if t != "点名"]
    referrer = None
    if "带访" in rest:
        i = rest.index("带访")
        referrer, tail = take_phone(rest[i + 1:])
        if not referrer:
            raise ValueError
        rest = rest[:i] + tail
    phone, rest = take_phone(rest)
    if not phone:
        raise ValueError
    name, note = take_name(rest)
    return c.Visit(name, phone, named, referrer, " ".join(note), named_for)


def deal(args):
    phone, rest = take_phone(args)
    if not phone:
        raise ValueError
    name, rest = take_name(rest)
    units, relation, linked, note = None, "", "", []
    rest = _join_units(rest)
    while rest:
        tok = rest.pop(0)
        n = units_of(tok)
        if n is not None and units is None:
            units = n
        elif n is not None:
            raise ValueError            # two units words: which one?
        elif tok in RELATIONS and not relation:
            relation = RELATIONS[tok]
            linked, rest = _linked(rest)
        elif tok in OTHER_RELATIONS and not relation:     # 兄弟 王五: understood, refused by the handler
            relation = tok
            linked, rest = _linked(rest)
        else:
            note.append(tok)
    return c.RecordDeal(name, phone, units or 1, relation, " ".join(note), linked)


def _linked(rest: list[str]) -> tuple[str, list[str]]:
    """配偶 王建国 / 配偶 138…: the registered customer after a relation word (RULES §6.2), if any."""
    if not rest or units_of(rest[0]) is not None:
        return "", rest
    if _PHONE_PIECE.match(rest[0]):
        phone, after = take_phone(rest)
        return phone or "", after
    return member_name(rest[0]), rest[1:]


def name_helper(args):
    """让 甲 代接: the owner names who receives their old customer."""
    if len(args) != 2 or args[1] != "代接" or not member_name(args[0]):
        raise ValueError
    return c.NameHelper(member_name(args[0]))


def follow_up(args):
    """跟进 手机|姓名 内容: the customer is the first argument; a phone inside the note is note text."""
    if len(args) < 2:
        raise ValueError
    return c.FollowUp(args[0], " ".join(args[1:]))


def appeal(args):
    phone, rest = take_phone(args)
    if not phone or not rest:
        raise ValueError
    return c.Appeal(phone, " ".join(rest))


def lookup(args):
    """查客 手机 | 姓名 | 138****5678 (copied from the group) | 5678 (the last four digits)."""
    if not args:
        raise ValueError
    phone, rest = take_phone(args)
    if phone and not rest:
        return c.Lookup(phone)
    if len(args) == 1 and masked_parts(args[0]) is not None:
        return c.Lookup(args[0])
    name, rest = take_name(args)
    if rest:
        raise ValueError
    return c.Lookup(name)


def see_off(args):
    if not args:
        return c.SeeOff()
    phone, rest = take_phone(args)
    return c.SeeOff(phone if phone and not rest else " ".join(args))


def names(cls, at_least: int):
    def parse(args):
        names = tuple(n for n in (member_name(a) for a in args) if n)
        if len(names) < at_least or len(set(names)) != len(names):
            raise ValueError
        return cls(names)
    return parse


def name_and_reason(cls):
    """/跳过 甲 [原因], /驳回 甲 [原因]."""
    def parse(args):
        if not args or not member_name(args[0]):
            raise ValueError
        return cls(member_name(args[0]), " ".join(args[1:]))
    return parse


skip = name_and_reason(c.Skip)


def verify(args):
    phone, rest = take_phone(args)
    if not phone or rest not in (["同一人"], ["不同人"]):
        raise ValueError
    return c.Verify(phone, rest == ["同一人"])


def decide(args):
    phone, rest = take_phone(args)
    if rest and rest[0] == "归":
        rest = rest[1:]
    names = tuple(member_name(a) for a in rest)
    if not phone or not 1 <= len(names) <= 2 or len(set(names)) != len(names) or not all(names):
        raise ValueError
    return c.Decide(phone, names)


def export(args):
    if len(args) > 2 or not all(re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", a) for a in args):
        raise ValueError
    return c.Export(*args)


def roster(args):
    if len(args) != 2 or args[0] not in ("添加", "移除", "经理", "取消经理") or not member_name(args[1]):
        raise ValueError
    return c.Roster(args[0], member_name(args[1]))


def transfer(args):
    """/转移 甲 乙: all of 甲's active customers to 乙."""
    if len(args) != 2 or not all(member_name(x) for x in args) or member_name(args[0]) == member_name(args[1]):
        raise ValueError
    return c.Transfer(member_name(args[0]), member_name(args[1]))


_PHONE_FILLER = ("改为", "改成", "更正为", "换成", "应为", "应是", "应该是", "为", "成", "改", "→", "->", "=>", "到",
                 "旧", "新", "原", "手机", "手机号", "电话", "号码", "旧手机", "新手机", "原手机", "正确", "正确的")


def correct(args):
    """更正 手机 新姓名, or 更正 旧手机 新手机 (RULES §5.8), with the words people put between them
    (`更正 138… 改为 139…`, `更正 旧 138… 新 139…`)."""
    phone, rest = take_phone(args)
    if phone:
        new, after = take_phone([t for t in rest if t not in _PHONE_FILLER])
        if new and not after:
            return c.CorrectPhone(phone, new)
    if any(w in t for t in rest for w in ("手机", "电话", "号码")):
        raise ValueError                # `更正 138… 新手机` typed as shown: the usage line, never a rename
    return correct_name(args)


def correct_name(args):
    """更正 手机 新姓名 (a name typed with a space after the surname is one name)."""
    phone, rest = take_phone(args)
    if not phone or not rest:
        raise ValueError
    name, rest = take_name(rest)
    if rest:
        raise ValueError
    return c.CorrectName(phone, name)


def period(kind: str):
    """/周报 [上周], /月报 [上月|YYYY-MM] (`2026-11`, `2026-1`, `2026年11月`)."""
    last = "上周" if kind == "week" else "上月"

    def parse(args):
        if not args:
            return c.PeriodReport(kind)
        if len(args) != 1:
            raise ValueError
        if args[0] == last:
            return c.PeriodReport(kind, "last")
        month = re.fullmatch(r"(20\d\d)(?:-|年|/|\.)(0?[1-9]|1[0-2])月?", args[0]) if kind == "month" else None
        if month is None:
            raise ValueError
        return c.PeriodReport(kind, f"{month[1]}-{int(month[2]):02d}")
    return parse


def board_link(args):
    if args not in ([], ["重置"]):
        raise ValueError
    return c.BoardLink(reset=bool(args))


def report_link(args):
    if args not in ([], ["重置"]):
        raise ValueError
    return c.ReportLink(reset=bool(args))


def whoami(args):
    """我是 姓名, or 我是 姓名 123456 with the one-time code of `reception-bot link`."""
    code = args[1] if len(args) == 2 and re.fullmatch(r"\d{6}", args[1]) else ""
    names = args[:1] if code else args
    if len(names) != 1 or not member_name(names[0]):
        raise ValueError
    return c.WhoAmI(member_name(names[0]), code)


def log(args):
    if len(args) > 1:
        raise ValueError
    return c.ShowLog(member_name(args[0]) if args else "")


def non_buyer(args):
    if len(args) != 1:
        raise ValueError
    return c.NonBuyer(args[0])


def bind(args):
    if not args:
        raise ValueError
    return c.Bind(" ".join(args))
