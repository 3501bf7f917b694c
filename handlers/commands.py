"""Commands: what a chat message asks for, as small frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from rules.enums import ReportPeriod


@dataclass(frozen=True)
class Command:
    pass


# ---- salespeople -------------------------------------------------------
@dataclass(frozen=True)
class SignIn(Command):
    pass


@dataclass(frozen=True)
class SignOut(Command):
    pass


@dataclass(frozen=True)
class Leave(Command):
    pass


@dataclass(frozen=True)
class StepOut(Command):
    reason: str = ""


@dataclass(frozen=True)
class GoOut(Command):
    reason: str = ""


@dataclass(frozen=True)
class Back(Command):
    pass


@dataclass(frozen=True)
class Receive(Command):
    pass


@dataclass(frozen=True)
class Visit(Command):
    name: str
    phone: str
    named: bool = False
    referrer: str | None = None
    note: str = ""
    named_for: str = ""      # 点名 甲: the colleague the customer asked for ("" = the reporter)


@dataclass(frozen=True)
class NonBuyer(Command):
    kind: str


@dataclass(frozen=True)
class HelpReceive(Command):
    phone: str


@dataclass(frozen=True)
class TakeOver(Command):
    phone: str               # 接手 手机 / 到访 手机: the owner takes their customer back (RULES §3.12)
    by_visit: bool = False   # typed as 到访 手机: an owner's plain return visit when nobody receives them


@dataclass(frozen=True)
class Decline(Command):
    """不接: the member named by 点名 declines (RULES §4)."""


@dataclass(frozen=True)
class NameHelper(Command):
    name: str                # 让 甲 代接: the owner names 甲 to receive their old customer


@dataclass(frozen=True)
class SeeOff(Command):
    key: str = ""


@dataclass(frozen=True)
class FollowUp(Command):
    key: str
    content: str


@dataclass(frozen=True)
class RecordDeal(Command):
    name: str
    phone: str
    units: int = 1
    relation: str = ""
    note: str = ""
    linked: str = ""         # 配偶 王建国: the registered customer (name or phone) the buyer is related to


@dataclass(frozen=True)
class Appeal(Command):
    phone: str
    reason: str


@dataclass(frozen=True)
class Lookup(Command):
    key: str


@dataclass(frozen=True)
class MyCustomers(Command):
    pass


@dataclass(frozen=True)
class Board(Command):
    pass


@dataclass(frozen=True)
class HelpText(Command):
    topic: str = ""          # "" (salesperson commands), "经理", or a command word
    usage: str = ""          # that command's usage line (the parser knows it)


@dataclass(frozen=True)
class WhoAmI(Command):
    name: str
    code: str = ""          # the one-time code from `reception-bot link 姓名` (a manager's name needs it)


# ---- managers ----------------------------------------------------------
@dataclass(frozen=True)
class OpenDay(Command):
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetOrder(Command):
    names: tuple[str, ...]


@dataclass(frozen=True)
class GiveMakeup(Command):
    name: str


@dataclass(frozen=True)
class Skip(Command):
    name: str
    reason: str = ""


@dataclass(frozen=True)
class Withdraw(Command):
    name: str                # /驳回 甲 [原因]: 甲's latest benefit of today (RULES §9a)
    reason: str = ""


@dataclass(frozen=True)
class Assign(Command):
    name: str


@dataclass(frozen=True)
class Approve(Command):
    name: str


@dataclass(frozen=True)
class Verify(Command):
    phone: str
    same: bool


@dataclass(frozen=True)
class Decide(Command):
    phone: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Release(Command):
    phone: str


@dataclass(frozen=True)
class Undo(Command):
    pass


@dataclass(frozen=True)
class ShowLog(Command):
    name: str = ""


@dataclass(frozen=True)
class DailySummary(Command):
    pass


@dataclass(frozen=True)
class Export(Command):
    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class BoardLink(Command):
    reset: bool = False


@dataclass(frozen=True)
class ReportLink(Command):
    reset: bool = False


@dataclass(frozen=True)
class PeriodReport(Command):
    period: ReportPeriod          # /周报 | /月报
    which: str = ""               # "": this period so far; "last": 上周 / 上月; "YYYY-MM": that month

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", ReportPeriod(self.period))   # the parser passes the word


@dataclass(frozen=True)
class Roster(Command):
    action: str
    name: str


@dataclass(frozen=True)
class Bind(Command):
    project: str


@dataclass(frozen=True)
class Confirm(Command):
    """/确认 姓名: the account that said 「我是 姓名」 is linked to that name."""
    name: str


@dataclass(frozen=True)
class Transfer(Command):
    source: str
    target: str


@dataclass(frozen=True)
class CorrectName(Command):
    phone: str
    name: str


@dataclass(frozen=True)
class CorrectPhone(Command):
    """更正 旧手机 新手机: a mistyped phone (RULES §5.8)."""
    old: str
    new: str
