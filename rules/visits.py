"""到访分类 (RULES §4): who receives the customer, and whether it counts.

`classify` is pure: it gets what the register and the queue say and returns a
`Visit`. The handler applies it to the queue and the register.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules import texts as T
from rules.enums import Category
from rules.policy import Policy
from rules.queue import AVAILABLE, BUSY

CATEGORY_WORDS = T.CATEGORY


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
             policy: Policy, named_for: str | None = None, named_presence: str | None = None) -> Visit:
    """Route and count one reported visit (the policy table of RULES §4).

    `named_for`: the colleague the customer asked for (点名 甲), `named_presence` their presence.
    """
    visit = _route(reporter, owner, owner_closed, owner_presence, named, referrer_owner,
                   referrer_closed, referrer_owner_presence, policy)
    if visit.category == Category.NAMED and named_for and named_for != reporter:
        visit = route_named(reporter, named_for, named_presence)
    if repeat_today and visit.counted:
        visit = Visit(Category.REPEAT_TODAY, visit.receiver, False, visit.owner, visit.owner_present,
                      T.V_REPEAT)
    if not in_shift and visit.counted:
        visit = Visit(Category.OFF_SHIFT, visit.receiver, False, visit.owner, visit.owner_present,
                      T.V_OFF_SHIFT)
    return visit


def route_named(reporter: str, named_for: str, presence: str | None) -> Visit:
    """点名 甲: the customer asked for colleague 甲. If 甲 is here, 甲 receives, counted (`named`);
    the reporter gets neither the customer nor the count. If 甲 is not here, it is a walk-in."""
    if _present(presence):
        return Visit(Category.NAMED, named_for, True, named_for, True, T.V_NAMED_OTHER.format(name=named_for))
    return Visit(Category.NEW, reporter, True, why=T.V_NAMED_ABSENT.format(name=named_for))


def _present(presence: str | None) -> bool:
    return presence in (AVAILABLE, BUSY)


def _route(reporter, owner, owner_closed, owner_presence, named, referrer_owner, referrer_closed,
           referrer_owner_presence, policy) -> Visit:
    if owner == reporter:
        cat = Category.OWN_RETURN_CLOSED if owner_closed else Category.OWN_RETURN_OPEN
        return Visit(cat, reporter, own_return_counted(policy, owner_closed), why=T.V_OWN)
    if owner is not None:
        if _present(owner_presence):
            counted = policy.handover_owner_counted or own_return_counted(policy, owner_closed)
            return Visit(Category.HANDOVER, owner, counted, owner, True, T.V_HANDOVER.format(owner=owner))
        return Visit(Category.OBLIGATION, reporter, False, owner, False,
                     T.V_OBLIGATION.format(owner=owner))
    if referrer_owner is not None:
        cat = Category.BROUGHT_CLOSED if referrer_closed else Category.BROUGHT_OPEN
        counted = brought_counted(policy, referrer_closed)
        if referrer_owner != reporter and _present(referrer_owner_presence):
            return Visit(cat, referrer_owner, counted, referrer_owner, True,
                         T.V_BROUGHT_OTHER.format(owner=referrer_owner))
        if referrer_owner == reporter:
            return Visit(cat, reporter, counted, why=T.V_BROUGHT_OWN)
    if named:
        return Visit(Category.NAMED, reporter, True, why=T.V_NAMED)
    return Visit(Category.NEW, reporter, True, why=T.V_NEW)
