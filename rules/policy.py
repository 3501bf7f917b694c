"""Policy settings (RULES.md): every number and yes/no a sales office may change.

Three presets come from the seed's three policies; any setting can be overridden.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import time
from typing import Any

from rules import texts as T


@dataclass(frozen=True)
class Policy:
    preset: str = "real_estate"
    daily_order: str = "carry_over"          # carry_over | fixed
    tracking_days: int = 7                   # 客户跟踪有效期
    deal_appeal_days: int = 7                # 归属权追溯期
    deal_split: float = 0.5                  # 分半
    non_buyer_window_minutes: int = 3
    max_reception_minutes: int = 120
    big_order_units: int = 3
    benefit_notice: str = "each"             # each | daily | off: managers told of every benefit (RULES §9a)
    named_confirm_minutes: int = 10          # 点名 甲: how long 甲 has to confirm (RULES §4)
    remind_time: time = time(9, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 30)
    # visit counting (RULES §4 table); True = counted for the receiver
    own_return_open_counted: bool = False
    own_return_closed_counted: bool = False
    brought_open_counted: bool = False
    brought_closed_counted: str = "never"     # never | if_registered | always
    handover_owner_counted: bool = False      # O's count when a colleague hands O's customer back
    helper_no_deal_owner_counted: bool = False  # auto_dealer: O counted, helper make-up
    non_buyer_to_last: bool = False          # count_all 十三: /指派 末位 hands a declared 非客 to the last member
    phone_duty: bool = False                 # auto_dealer 二.10
    door_duty: bool = False                  # auto_dealer 二.1

    def with_overrides(self, **overrides: Any) -> Policy:      # Any: config.yaml's values, checked by bot/config.py
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(T.UNKNOWN_SETTINGS.format(names="、".join(unknown)))
        return replace(self, **overrides)


PRESETS: dict[str, Policy] = {
    "real_estate": Policy(),
    "auto_dealer": Policy(
        preset="auto_dealer",
        own_return_open_counted=True,
        brought_open_counted=True,
        brought_closed_counted="if_registered",
        handover_owner_counted=True,
        helper_no_deal_owner_counted=True,
        phone_duty=True,
        door_duty=True,
    ),
    "count_all": Policy(
        preset="count_all",
        own_return_open_counted=True,
        own_return_closed_counted=True,
        brought_open_counted=True,
        brought_closed_counted="always",
        handover_owner_counted=True,
        non_buyer_to_last=True,
    ),
}


def preset(name: str) -> Policy:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(T.UNKNOWN_PRESET.format(name=name, names="、".join(PRESETS))) from None
