"""The closed sets of words the rules use: presence, reception category, customer status, member role,
the kind of a change-log row, what a reception earned, when a 非客 takes effect and the report periods.
StrEnums: each compares equal to its string, so the database, the state dump and every reply keep the
same words."""
from __future__ import annotations

from enum import StrEnum


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY_BUSINESS = "away_business"
    AWAY_PERSONAL = "away_personal"
    ABSENT = "absent"


class Category(StrEnum):
    """What a reception was (RULES §4); the words in texts.CATEGORY."""
    NEW = "new"
    NAMED = "named"
    OWN_RETURN_OPEN = "own_return_open"
    OWN_RETURN_CLOSED = "own_return_closed"
    BROUGHT_OPEN = "brought_open"
    BROUGHT_CLOSED = "brought_closed"
    REPEAT_TODAY = "repeat_today"
    HANDOVER = "handover"
    HELPER = "helper"
    OBLIGATION = "obligation"
    NON_BUYER = "non_buyer"
    ERRAND = "errand"
    OFF_SHIFT = "off_shift"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"
    CLOSED = "closed"
    PENDING = "pending"


class Role(StrEnum):
    SALES = "sales"
    MANAGER = "manager"
    BOTH = "both"           # a manager who also receives customers


class Benefit(StrEnum):
    """What a reception earned its receiver (RULES §4: one benefit per reception); receptions.benefit."""
    NONE = ""
    REFUND = "refund"       # 退名次并补接: a counted turn re-classified, the count back with a make-up
    MAKEUP = "makeup"       # 补接: an obligation or helper reception without a deal


class BenefitKind(StrEnum):
    """A benefit the manager sees and may withdraw with /驳回 (RULES §9a); benefits.kind."""
    REFUND = "refund"           # a counted turn given back (with a make-up for a rotation turn)
    MAKEUP = "makeup"           # a make-up earned (义务接待/代接 without a deal, a handover)
    KEPT_PLACE = "kept_place"   # 外出: the place in the queue kept
    UNCOUNTED = "uncounted"     # an uncounted reception of a new walk-in (带访, an old customer while next-up)


class NonBuyerTiming(StrEnum):
    """When a 非客 takes effect (seed 十三)."""
    NOW = "now"             # within the window, or while the visitor is still here
    APPROVE = "approve"     # after 送客 and past the window: it waits for /批准


class ReportPeriod(StrEnum):
    WEEK = "week"           # /周报
    MONTH = "month"         # /月报


SELLS = (Role.SALES, Role.BOTH)
MANAGES = (Role.MANAGER, Role.BOTH)


class FactKind(StrEnum):
    """A dated fact about a customer, written when it happens (reports of a closed period read these)."""
    REGISTERED = "registered"   # 登记: a new customer, or a 公客 registered again
    LAPSED = "lapsed"           # 流失公客: the owner's validity ended (`at` is the deadline)


class AuditKind(StrEnum):
    CMD = "cmd"             # a member's command
    SYSTEM = "system"       # scheduled work
    UNDO = "undo"           # an /撤销 (never undone itself)


class MessageKind(StrEnum):
    """What an outgoing message is; a day's announcements are worthless once that day is over."""
    REPLY = "reply"         # the answer to a message
    GREETING = "greeting"   # the day's opening
    SUMMARY = "summary"     # 日报
    NUDGE = "nudge"         # a reception running over time
    REMINDER = "reminder"   # a customer's registration expires tomorrow / today
    LAPSE = "lapse"         # a customer lapsed (sent however late: the owner must know)
    CATCH_UP = "catch_up"   # the line after downtime
    NOTICE = "notice"       # a message the bot could not deliver, told to the managers
    ANNOUNCE = "announce"   # a command sent privately, announced in the project's group


STALE_AFTER_ITS_DAY = frozenset({MessageKind.GREETING, MessageKind.SUMMARY, MessageKind.NUDGE,
                                 MessageKind.REMINDER, MessageKind.CATCH_UP})
