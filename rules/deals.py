"""成交 (RULES §6): credit, split, appeal window, big orders."""
from __future__ import annotations

from datetime import date, timedelta


def shares(owner: str, same_day_helper: str | None, split: float) -> dict[str, float]:
    """Credit the owner; a same-day helper or obligation receiver gets the split (分半)."""
    if same_day_helper and same_day_helper != owner:
        return {owner: round(1 - split, 4), same_day_helper: round(split, 4)}
    return {owner: 1.0}


def appeal_open(deal_date: date, today: date, appeal_days: int) -> bool:
    """归属权追溯期: appeals are accepted through the N-th day after the deal date."""
    return today <= deal_date + timedelta(days=appeal_days)


def appeal_deadline(deal_date: date, appeal_days: int) -> date:
    return deal_date + timedelta(days=appeal_days)


def is_big_order(units: int, big_order_units: int) -> bool:
    return units >= big_order_units
