"""客户登记与归属 (RULES §5): validity, identity by phone, tracking validity, lapse."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from rules import texts as T
from rules.enums import CustomerStatus, FactKind
from rules.errors import Refused

ACTIVE, LAPSED, CLOSED, PENDING = (CustomerStatus.ACTIVE, CustomerStatus.LAPSED, CustomerStatus.CLOSED,
                                   CustomerStatus.PENDING)
PLACEHOLDERS = {"先生", "女士", "小姐", "太太", "客户", "客人", "顾客", "某某", "某人", "未知", "无名", "无",
                "匿名", "不详", "老板", "阿姨", "叔叔", "大哥", "大姐", "美女", "帅哥", "师傅", "老师", "路人",
                "测试", "test", "x", "xx", "xxx", "unknown", "mr", "mrs", "ms", "miss", "sir", "madam"}
# RULES §5.1: a surname (or a compound surname) followed by a placeholder or a form of address
_ADDRESS = ("x", "xx", "xxx", "某", "某某", "*", "**", "***", "先生", "女士", "小姐", "太太", "太", "生", "老板",
            "总", "经理", "老师", "姐", "哥", "叔", "阿姨", "姨", "师傅", "工", "总监", "主任", "大哥", "大姐")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒",
                      "夏侯", "长孙", "宇文", "轩辕", "端木", "独孤", "南宫", "西门", "申屠", "澹台", "呼延")
_LATIN_WORD = r"[A-Za-z\u00c0-\u024f]+(?:['.\-][A-Za-z\u00c0-\u024f]+)*\.?"
_LATIN_NAME = re.compile(rf"{_LATIN_WORD}(?:[ ·]{_LATIN_WORD})*")
_CJK_NAME = re.compile("^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+"
                       "(?:·[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+)*")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 直系亲属 (seed 十一.5/6): parent–child and spouse, in either direction, link a buyer to a customer
RELATIONS = {"父母": "父母", "父亲": "父母", "母亲": "父母", "爸爸": "父母", "妈妈": "父母",
             "儿子": "子女", "女儿": "子女", "子女": "子女",
             "配偶": "配偶", "丈夫": "配偶", "妻子": "配偶", "老公": "配偶", "老婆": "配偶", "爱人": "配偶"}
# understood, but not 直系亲属: a deal is never linked through them (RULES §6.2)
OTHER_RELATIONS = frozenset(T.OTHER_RELATION_WORDS.split())


def normalize_phone(raw: str) -> str | None:
    """Mainland mobile: 11 digits starting 1[3-9]; +86, spaces and dashes are dropped."""
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE.match(digits) else None


def add_note(notes: str | None, note: str, limit: int = 1000) -> str:
    """备注: the newest note last, joined by `；`, the oldest dropped beyond `limit` characters."""
    joined = f"{notes}；{note}" if notes else note
    return joined[-limit:]


def masked_parts(key: str) -> tuple[str, str] | None:
    """查客 keys that are not a full phone: `138****5678` → ('138', '5678'), `5678` → ('', '5678')."""
    mt = re.fullmatch(r"(1[3-9]\d)[*xX]{3,5}(\d{4})|(\d{4})", key)
    if mt is None:
        return None
    return (mt.group(1), mt.group(2)) if mt.group(1) else ("", mt.group(3))


def masked_phone(key: str) -> tuple[str, str] | None:
    """A phone as the bot prints it (`138****5678`): its first three and last four digits; None for
    anything else, a last-four key included."""
    parts = masked_parts(key)
    return parts if parts and parts[0] else None


def name_problem(name: str) -> str | None:
    """真实姓名 (RULES §5.1): why `name` is not a real name, or None when it is one.

    2–20 characters: Chinese characters of every CJK plane (李𬌗), Latin letters with inner spaces
    (Tom Hanks), the middle dot (阿依·古丽). Placeholders and forms of address are refused."""
    if not 2 <= len(name) <= 20:
        return T.NAME_LENGTH
    low = name.lower().rstrip(".")
    if any(ch.isdigit() for ch in name):
        return T.NAME_DIGITS
    if low in PLACEHOLDERS or "某" in name or any(w in name for w in ("客户", "客人", "顾客")):
        return T.NAME_PLACEHOLDER
    kind = _address(name)
    if kind or re.fullmatch(r"(mr|mrs|ms|miss|dr)\.? .*", low):
        return kind or T.NAME_ADDRESS
    if not (_CJK_NAME.fullmatch(name) or _LATIN_NAME.fullmatch(name)):
        return T.NAME_CHARS
    return None


def _address(name: str) -> str | None:
    """王XX 王某 (代称); 王先生 欧阳总 陈生 (surname + form of address), 小王 老李 阿强 (称呼)."""
    if len(name) == 2 and name[0] in "小老阿":
        return T.NAME_ADDRESS
    low = name.lower()
    for suffix in _ADDRESS:
        if low.endswith(suffix):
            head = name[:len(name) - len(suffix)]
            if len(head) == 1 and _CJK_NAME.fullmatch(head) or head in COMPOUND_SURNAMES:
                return T.NAME_PLACEHOLDER if suffix[0] in "x*某" else T.NAME_ADDRESS
    return None


def check_name(name: str) -> str:
    """真实姓名 or Refused with the reason (RULES §5.1); `•‧・` are already read as `·`."""
    name = name.strip()
    problem = name_problem(name)
    if problem:
        raise Refused(T.C_BAD_NAME.format(name=name, problem=problem))
    return name


def check_phone(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise Refused(T.C_BAD_PHONE.format(raw=raw))
    return phone


def mask(phone: str) -> str:
    """138****5678 — the only form a phone takes in a group (RULES §10)."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def valid_until(last_activity: datetime, tracking_days: int) -> datetime:
    """有效跟踪期: through the end of the N-th day after the owner's last activity."""
    day = last_activity.date() + timedelta(days=tracking_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=last_activity.tzinfo)


@dataclass
class Customer:
    name: str
    phone: str
    owner: str | None
    status: CustomerStatus
    registered_by: str
    registered_at: datetime
    last_activity_at: datetime | None = None
    valid_until: datetime | None = None
    note: str = ""
    other_names: list[str] = field(default_factory=list)
    id: int | None = None
    prev_owner: str | None = None           # who owned it before it lapsed and was registered again
    prev_until: datetime | None = None      # through when that ownership was valid

    def effective_status(self, now: datetime) -> CustomerStatus:
        """active → lapsed (公客) once now is past valid_until; closed never lapses."""
        if self.status == ACTIVE and self.valid_until is not None and now > self.valid_until:
            return LAPSED
        return self.status

    def owner_at(self, now: datetime) -> str | None:
        return self.owner if self.effective_status(now) in (ACTIVE, CLOSED) else None

    def renew(self, now: datetime, tracking_days: int) -> None:
        """跟进 or a visit received by the owner: the tracking period restarts."""
        self.last_activity_at = now
        if self.status == ACTIVE:
            self.valid_until = valid_until(now, tracking_days)

    def register_to(self, owner: str, name: str, now: datetime, tracking_days: int) -> None:
        """A valid registration (new, or of a 公客) makes `owner` the owner; the lapse before it is kept
        (RULES §5.9: the former owner is told when it lapsed and who holds the customer now)."""
        if self.owner and self.valid_until and self.effective_status(now) == LAPSED:
            self.prev_owner, self.prev_until = self.owner, self.valid_until
        self.owner, self.name, self.status = owner, name, ACTIVE
        self.registered_by, self.registered_at = owner, now
        self.renew(now, tracking_days)

    def lapsed_from(self, member: str, now: datetime) -> datetime | None:
        """When `member`'s ownership of this customer lapsed, if it was theirs until a lapse: the
        deadline that passed (still a 公客, or registered again by someone else since)."""
        if self.owner == member and self.effective_status(now) == LAPSED:
            return self.valid_until
        if self.prev_owner == member and self.owner != member:
            return self.prev_until
        return None

    def close(self) -> None:
        """成交: a customer with a deal no longer lapses."""
        self.status, self.valid_until = CLOSED, None


@dataclass(frozen=True)
class Fact:
    """Something that happened to a customer on a day: who, and when (RULES §11: a closed period never changes)."""
    kind: FactKind
    member: str
    at: datetime


def facts_of_change(before: Customer | None, after: Customer, now: datetime) -> list[Fact]:
    """The dated facts a change to a customer's record makes (before: None for a new customer).

    A lapse is written when the record of a lapsed customer changes (else the record itself still
    shows it); a registration when the customer is new or registered again (a 公客). Verifying or
    deciding a pending registration is no new one: it was counted on the day it was made."""
    out = []
    if before is not None and before.owner and before.status == ACTIVE and before.valid_until is not None \
            and now > before.valid_until and (after.owner, after.status, after.valid_until) != \
            (before.owner, before.status, before.valid_until):
        out.append(Fact(FactKind.LAPSED, before.owner, before.valid_until))
    if before is None or (before.status != PENDING and after.registered_at != before.registered_at):
        out.append(Fact(FactKind.REGISTERED, after.registered_by, after.registered_at))
    return out


def new_customer(name: str, phone: str, owner: str, now: datetime, tracking_days: int,
                 pending: bool = False) -> Customer:
    c = Customer(name=name, phone=phone, owner=None, status=PENDING, registered_by=owner,
                 registered_at=now)
    if not pending:
        c.register_to(owner, name, now, tracking_days)
    return c
