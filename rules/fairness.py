"""公平 (RULES §4, §6.1, §9): who earns a make-up or a refund, one benefit per reception,
who may help, who may correct a deal, who may be skipped, and the managers who always stay.

Pure functions: the handlers pass in what the register and the queue say.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from rules import texts as T
from rules.enums import Benefit, Category, NonBuyerTiming
from rules.queue import AVAILABLE, AWAY_BUSINESS, BUSY


def refund_terms(counted: bool, turn: bool) -> tuple[bool, bool]:
    """A reception re-classified as uncounted: (count back, make-up).

    The count goes back whenever it was counted; a make-up compensates only a counted
    rotation turn (the receiver was the next-up or /指派-ed): out of turn, no turn was used.
    """
    return counted, counted and turn


def earns_makeup(turn: bool, deal_today: bool) -> bool:
    """义务接待 ended: a make-up for a counted rotation turn, unless a same-day deal splits it."""
    return turn and not deal_today


def withdraw_on_registration(category: str, benefit: str) -> bool:
    """非客 then 到访 in the same reception: it was not a non-buyer; the refund is withdrawn."""
    return category == Category.NON_BUYER and benefit == Benefit.REFUND


def withdraw_on_split(makeup_src: int | None, receptions: set[int]) -> bool:
    """A same-day split replaces the obligation make-up still unused (one already used stands)."""
    return makeup_src is not None and makeup_src in receptions


def skip_refusal(name: str, presence: str | None, off_today: bool) -> str | None:
    """/跳过 is for a member absent without notice: not for the busy, the away on business or on leave."""
    if off_today:
        return T.SKIP_OFF.format(name=name)
    if presence == BUSY:
        return T.SKIP_BUSY.format(name=name)
    if presence == AWAY_BUSINESS:
        return T.SKIP_AWAY.format(name=name)
    return None


def help_refusal(helper: str, owner: str, owner_presence: str | None, named: str | None,
                 default: str | None, helper_presence: str | None) -> str | None:
    """代接: only the helper the owner named (让 甲 代接); while the owner is busy and named nobody,
    the default helper (the last available member of the queue); while the owner is away and named
    nobody, a colleague at their post who phoned the owner. Nobody who is not at their post."""
    if helper_presence != AVAILABLE:
        return T.HELP_NOT_HERE.format(me=helper)
    if named:
        return None if named == helper else T.HELP_NOT_NAMED.format(owner=owner, named=named)
    if owner_presence == BUSY and default != helper:
        return T.HELP_NOT_DEFAULT.format(owner=owner, helper=default or T.NONE)
    return None


def deal_correction_refusal(poster: str, shares: dict[str, float], manager: bool, owner: str) -> str | None:
    """One deal per customer per day: a credited salesperson or a manager corrects it; anyone else is refused."""
    if manager or poster in shares:
        return None
    return T.DEAL_NOT_YOURS.format(owner=owner)


def non_buyer_timing(started: datetime, now: datetime, window_minutes: int, still_open: bool) -> NonBuyerTiming:
    """十三: NOW within the window or while the visitor is still here; APPROVE after 送客."""
    if still_open or now <= started + timedelta(minutes=window_minutes):
        return NonBuyerTiming.NOW
    return NonBuyerTiming.APPROVE


def managers_of(db_managers: list[str], config_managers: tuple[str, ...] | list[str]) -> list[str]:
    """Managers listed in config.yaml are always managers, whatever /成员 did in the database."""
    return list(dict.fromkeys([*config_managers, *db_managers]))


def manager_change_refusal(name: str, managers: list[str], config_managers, demote: bool) -> str | None:
    """The last manager stays; a manager listed in config.yaml is not removed or demoted from the chat."""
    if name in config_managers:
        return T.CONFIG_MANAGER_STAYS.format(name=name)
    if name in managers and len(managers) == 1:
        return T.LAST_MANAGER_STAYS.format(name=name, word=T.DEMOTE_WORD if demote else T.REMOVE_WORD)
    return None
