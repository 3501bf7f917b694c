"""到访分类 (RULES §4): who receives the customer, and whether it counts.

`classify` is pure: it gets what the register and the queue say (`VisitFacts`) and
returns a `Visit`. The handler applies it to the queue and the register.
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
    category: Category
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


@dataclass(frozen=True, kw_only=True)
class VisitFacts:
    """What the register and the queue say about one reported visit: the input of `classify`."""
    reporter: str
    owner: str | None                       # the customer's owner now (None: new to the register)
    owner_closed: bool                      # the customer's status is closed (成交)
    owner_presence: str | None
    named: bool                             # 点名: the customer asked for someone
    referrer_owner: str | None              # 带客: the owner of the customer who brought this one
    referrer_closed: bool                   # the referrer's status is closed (成交)
    referrer_owner_presence: str | None
    repeat_today: bool                      # the customer was already received today
    in_shift: bool
    named_for: str | None = None            # 点名 甲: the colleague the customer asked for
    named_presence: str | None = None       # 甲's presence


def classify(facts: VisitFacts, policy: Policy) -> Visit:
    """Route and count one reported visit (the policy table of RULES §4)."""
    visit = _route(facts, policy)
    if visit.category == Category.NAMED and facts.named_for and facts.named_for != facts.reporter:
        visit = route_named(facts.reporter, facts.named_for, facts.named_presence)
    if facts.repeat_today and visit.counted:
        visit = Visit(Category.REPEAT_TODAY, visit.receiver, False, visit.owner, visit.owner_present,
                      T.V_REPEAT)
    if not facts.in_shift and visit.counted:
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


def _route(f: VisitFacts, policy: Policy) -> Visit:
    reporter, owner, owner_closed = f.reporter, f.owner, f.owner_closed
    if owner == reporter:
        cat = Category.OWN_RETURN_CLOSED if owner_closed else Category.OWN_RETURN_OPEN
        return Visit(cat, reporter, own_return_counted(policy, owner_closed), why=T.V_OWN)
    if owner is not None:
        if _present(f.owner_presence):
            counted = policy.handover_owner_counted or own_return_counted(policy, owner_closed)
            return Visit(Category.HANDOVER, owner, counted, owner, True, T.V_HANDOVER.format(owner=owner))
        return Visit(Category.OBLIGATION, reporter, False, owner, False,
                     T.V_OBLIGATION.format(owner=owner))
    if f.referrer_owner is not None:
        cat = Category.BROUGHT_CLOSED if f.referrer_closed else Category.BROUGHT_OPEN
        counted = brought_counted(policy, f.referrer_closed)
        if f.referrer_owner != reporter and _present(f.referrer_owner_presence):
            return Visit(cat, f.referrer_owner, counted, f.referrer_owner, True,
                         T.V_BROUGHT_OTHER.format(owner=f.referrer_owner))
        if f.referrer_owner == reporter:
            return Visit(cat, reporter, counted, why=T.V_BROUGHT_OWN)
    if f.named:
        return Visit(Category.NAMED, reporter, True, why=T.V_NAMED)
    return Visit(Category.NEW, reporter, True, why=T.V_NEW)
