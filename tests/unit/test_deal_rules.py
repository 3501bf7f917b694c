"""成交 (RULES §6): credit and split, the appeal window, big orders."""
from __future__ import annotations

from datetime import date

import pytest

from rules.deals import appeal_deadline, appeal_open, is_big_order, shares
from rules.policy import preset

DEAL_DAY = date(2026, 11, 27)


def test_deal_is_credited_wholly_to_the_owner():
    assert shares("李四", None, 0.5) == {"李四": 1.0}


def test_same_day_helper_splits_the_deal_half_and_half():
    assert shares("李四", "王五", 0.5) == {"李四": 0.5, "王五": 0.5}


def test_owner_as_own_helper_is_not_a_split():
    assert shares("李四", "李四", 0.5) == {"李四": 1.0}


def test_split_ratio_is_a_setting():
    s = shares("李四", "王五", 0.3)
    assert s == {"李四": 0.7, "王五": 0.3}
    assert sum(s.values()) == pytest.approx(1.0)


def test_default_split_is_half():
    assert preset("real_estate").deal_split == 0.5


@pytest.mark.parametrize("today, open_", [
    (date(2026, 11, 27), True),      # the deal day itself
    (date(2026, 11, 30), True),
    (date(2026, 12, 4), True),       # the 7th day after the deal date
    (date(2026, 12, 5), False),      # the 8th day: final
    (date(2027, 1, 1), False),
])
def test_appeal_window_runs_through_the_seventh_day_after_the_deal(today, open_):
    assert appeal_open(DEAL_DAY, today, 7) is open_


def test_appeal_deadline_is_the_seventh_day():
    assert appeal_deadline(DEAL_DAY, 7) == date(2026, 12, 4)


def test_appeal_window_is_a_setting():
    assert appeal_open(DEAL_DAY, date(2026, 11, 30), 3) is True
    assert appeal_open(DEAL_DAY, date(2026, 12, 1), 3) is False


@pytest.mark.parametrize("units, big", [(1, False), (2, False), (3, True), (10, True)])
def test_big_order_from_three_units(units, big):
    assert is_big_order(units, preset("real_estate").big_order_units) is big


def test_big_order_threshold_is_a_setting():
    assert is_big_order(4, 5) is False
    assert is_big_order(5, 5) is True
