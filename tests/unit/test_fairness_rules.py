"""公平 (RULES §4, §6.1, §9): the pure rules that close the loopholes, one test per rule."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules import fairness as fair
from rules.queue import ABSENT, AVAILABLE, AWAY_BUSINESS, AWAY_PERSONAL, BUSY

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_refund_gives_the_count_back_and_a_makeup_only_for_a_rotation_turn():
    assert fair.refund_terms(counted=True, turn=True) == (True, True)
    assert fair.refund_terms(counted=True, turn=False) == (True, False)
    assert fair.refund_terms(counted=False, turn=True) == (False, False)


def test_an_obligation_makeup_needs_a_rotation_turn_and_no_same_day_deal():
    assert fair.earns_makeup(turn=True, deal_today=False)
    assert not fair.earns_makeup(turn=False, deal_today=False)
    assert not fair.earns_makeup(turn=True, deal_today=True)


def test_a_registration_after_a_refunded_non_buyer_withdraws_the_refund():
    assert fair.withdraw_on_registration("non_buyer", "refund")
    assert not fair.withdraw_on_registration("non_buyer", "")        # nothing was given
    assert not fair.withdraw_on_registration("new", "")


def test_a_split_withdraws_only_the_makeup_that_reception_earned_and_still_unused():
    assert fair.withdraw_on_split(7, {7, 9})
    assert not fair.withdraw_on_split(None, {7})                       # used already: it stands
    assert not fair.withdraw_on_split(3, {7})                          # earned elsewhere


def test_skip_is_refused_for_busy_away_on_business_and_off_members_only():
    assert fair.skip_refusal("甲", BUSY, False)
    assert fair.skip_refusal("甲", AWAY_BUSINESS, False)
    assert fair.skip_refusal("甲", None, True)
    for p in (ABSENT, AVAILABLE, AWAY_PERSONAL):
        assert fair.skip_refusal("甲", p, False) is None


def test_only_the_named_helper_may_help_when_the_owner_named_one():
    assert fair.help_refusal("乙", "甲", BUSY, "乙", "丙", AVAILABLE) is None
    assert "乙" in fair.help_refusal("丙", "甲", BUSY, "乙", "丙", AVAILABLE)


def test_without_a_named_helper_a_busy_owners_customer_goes_to_the_default_helper():
    assert fair.help_refusal("丙", "甲", BUSY, None, "丙", AVAILABLE) is None
    assert "丙" in fair.help_refusal("乙", "甲", BUSY, None, "丙", AVAILABLE)


def test_a_helper_must_be_at_their_post():
    assert fair.help_refusal("乙", "甲", AWAY_BUSINESS, "乙", None, ABSENT)
    assert fair.help_refusal("乙", "甲", AWAY_BUSINESS, None, None, None)
    assert fair.help_refusal("乙", "甲", AWAY_BUSINESS, None, None, AVAILABLE) is None


def test_a_deal_is_corrected_by_a_credited_salesperson_or_a_manager_only():
    shares = {"甲": 0.5, "乙": 0.5}
    assert fair.deal_correction_refusal("乙", shares, False, "甲") is None
    assert fair.deal_correction_refusal("经理", shares, True, "甲") is None
    assert "甲" in fair.deal_correction_refusal("丙", shares, False, "甲")


def test_a_non_buyer_is_accepted_in_the_window_or_while_the_visitor_is_still_here():
    assert fair.non_buyer_timing(T0, T0 + timedelta(minutes=3), 3, still_open=False) == "now"
    assert fair.non_buyer_timing(T0, T0 + timedelta(minutes=30), 3, still_open=True) == "now"
    assert fair.non_buyer_timing(T0, T0 + timedelta(minutes=4), 3, still_open=False) == "approve"


def test_config_managers_are_always_managers_and_come_first():
    assert fair.managers_of(["乙"], ("甲",)) == ["甲", "乙"]
    assert fair.managers_of([], ("甲",)) == ["甲"]
    assert fair.managers_of(["甲"], ("甲",)) == ["甲"]


def test_the_last_manager_and_config_managers_stay():
    assert fair.manager_change_refusal("甲", ["甲", "乙"], ("甲",), demote=True)      # config
    assert fair.manager_change_refusal("乙", ["乙"], (), demote=False)                 # the last one
    assert fair.manager_change_refusal("乙", ["甲", "乙"], ("甲",), demote=True) is None
