"""到访分类 (RULES §4): who receives the customer, and whether it counts.

`classify` is pure: it gets what the register and the queue say and returns a
`Visit`. The handler applies it to the queue and the register.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules.policy import Policy
from rules.queue import AVAILABLE, BUSY

CATEGORY_WORDS = {
    "new": "新客户", "named": "点名客户", "own_return_open": "未成交老客户回访",
    "own_return_closed": "已成交客户回访", "brought_open": "未成交老客户带新客户",
    "brought_closed": "已成交老客户带新客户", "repeat_today": "当天重复到访",
    "handover": "同事老客户", "helper": "代接", "obligation": "义务接待",
    "non_buyer": "非购房人员", "errand": "找人/问路", "off_shift": "早到/迟走",
}


@dataclass(frozen=True)
class Visit:
    category: str
    receiver: str           # who should receive the customer
    counted: bool           # the receiver's reception uses up a turn
    owner: str | None = None        # the customer's owner, when it is not the reporter
    owner_present: bool = True      # owner available or busy (can take over)
    why: str = ""


def own_return_counted(policy: Policy, closed: bool) -> bool:
    return policy.own_return_closed_counted if closed else policy.own_return_open_counted


def brought_counted(policy: Policy, closed: bool) -> bool:
    if not closed:
        return policy.brought_open_counted
    # 到访 always carries a valid registration of the new customer, so if_registered holds
    return policy.brought_closed_counted in ("always", "if_registered")


def classify(*, reporter: str, owner: str | None, owner_closed: bool, owner_presence: str | None,
             named: bool, referrer_owner: str | None, referrer_closed: bool,
             referrer_owner_presence: str | None, repeat_today: bool, in_shift: bool,
             policy: Policy) -> Visit:
    """Route and count one reported visit (the policy table of RULES §4)."""
    visit = _route(reporter, owner, owner_closed, owner_presence, named, referrer_owner,
                   referrer_closed, referrer_owner_presence, policy)
    if repeat_today and visit.counted:
        visit = Visit("repeat_today", visit.receiver, False, visit.owner, visit.owner_present,
                      "当天重复到访,不计名次")
    if not in_shift and visit.counted:
        visit = Visit("off_shift", visit.receiver, False, visit.owner, visit.owner_present,
                      "班次时间之外(早到或迟走),不计名次")
    return visit


def _present(presence: str | None) -> bool:
    return presence in (AVAILABLE, BUSY)


def _route(reporter, owner, owner_closed, owner_presence, named, referrer_owner, referrer_closed,
           referrer_owner_presence, policy) -> Visit:
    if owner == reporter:
        cat = "own_return_closed" if owner_closed else "own_return_open"
        return Visit(cat, reporter, own_return_counted(policy, owner_closed), why="自己的老客户")
    if owner is not None:
        if _present(owner_presence):
            counted = policy.handover_owner_counted or own_return_counted(policy, owner_closed)
            return Visit("handover", owner, counted, owner, True, f"是 {owner} 的客户,交由 {owner} 接待")
        return Visit("obligation", reporter, False, owner, False,
                     f"是 {owner} 的客户,{owner} 不在场:请电话联系 {owner};联系不到则继续义务接待")
    if referrer_owner is not None:
        cat = "brought_closed" if referrer_closed else "brought_open"
        counted = brought_counted(policy, referrer_closed)
        if referrer_owner != reporter and _present(referrer_owner_presence):
            return Visit(cat, referrer_owner, counted, referrer_owner, True,
                         f"由 {referrer_owner} 的老客户带来,交由 {referrer_owner} 接待")
        if referrer_owner == reporter:
            return Visit(cat, reporter, counted, why="自己的老客户带来的新客户")
    if named:
        return Visit("named", reporter, True, why="客户点名找本人")
    return Visit("new", reporter, True, why="新客户")
