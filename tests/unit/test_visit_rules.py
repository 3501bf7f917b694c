"""到访分类 (RULES §4): rules.visits.classify for every category under each preset."""
from __future__ import annotations

import pytest

from rules.policy import PRESETS, preset
from rules.queue import ABSENT, AVAILABLE, AWAY_BUSINESS, AWAY_PERSONAL, BUSY
from rules.visits import VisitFacts, classify

ME, OTHER = "李四", "王五"


def visit(policy="real_estate", **kw):
    args = dict(reporter=ME, owner=None, owner_closed=False, owner_presence=None, named=False,
                referrer_owner=None, referrer_closed=False, referrer_owner_presence=None,
                repeat_today=False, in_shift=True)
    args.update(kw)
    return classify(VisitFacts(**args), preset(policy))


def test_presets_exist_and_unknown_is_refused():
    assert set(PRESETS) == {"real_estate", "auto_dealer", "count_all"}
    with pytest.raises(ValueError):
        preset("nope")


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
def test_new_customer_is_counted_for_the_reporter(policy):
    v = visit(policy)
    assert (v.category, v.receiver, v.counted) == ("new", ME, True)


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
def test_named_customer_is_counted_for_the_named_member(policy):
    v = visit(policy, named=True)
    assert (v.category, v.receiver, v.counted) == ("named", ME, True)


@pytest.mark.parametrize("policy, counted", [
    ("real_estate", False), ("auto_dealer", True), ("count_all", True)])
def test_own_return_open(policy, counted):
    v = visit(policy, owner=ME, owner_presence=AVAILABLE)
    assert (v.category, v.receiver, v.counted) == ("own_return_open", ME, counted)


@pytest.mark.parametrize("policy, counted", [
    ("real_estate", False), ("auto_dealer", False), ("count_all", True)])
def test_own_return_closed(policy, counted):
    v = visit(policy, owner=ME, owner_closed=True, owner_presence=AVAILABLE)
    assert (v.category, v.receiver, v.counted) == ("own_return_closed", ME, counted)


@pytest.mark.parametrize("policy, counted", [
    ("real_estate", False), ("auto_dealer", True), ("count_all", True)])
def test_brought_open_by_my_own_customer(policy, counted):
    v = visit(policy, referrer_owner=ME, referrer_owner_presence=AVAILABLE)
    assert (v.category, v.receiver, v.counted) == ("brought_open", ME, counted)


@pytest.mark.parametrize("policy, counted", [
    ("real_estate", False),
    ("auto_dealer", True),           # 到访 always registers the new customer
    ("count_all", True)])
def test_brought_closed_by_my_own_customer(policy, counted):
    v = visit(policy, referrer_owner=ME, referrer_closed=True, referrer_owner_presence=AVAILABLE)
    assert (v.category, v.receiver, v.counted) == ("brought_closed", ME, counted)


@pytest.mark.parametrize("presence", [AVAILABLE, BUSY])
def test_brought_customer_goes_to_the_referrers_owner_when_present(presence):
    v = visit("real_estate", referrer_owner=OTHER, referrer_owner_presence=presence)
    assert (v.category, v.receiver, v.owner) == ("brought_open", OTHER, OTHER)


def test_brought_open_counted_once_under_auto_dealer_for_the_referrers_owner():
    v = visit("auto_dealer", referrer_owner=OTHER, referrer_owner_presence=AVAILABLE)
    assert (v.receiver, v.counted) == (OTHER, True)


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
def test_repeat_today_is_never_counted(policy):
    v = visit(policy, repeat_today=True)
    assert (v.category, v.counted) == ("repeat_today", False)


@pytest.mark.parametrize("policy", ["auto_dealer", "count_all"])
def test_repeat_today_of_own_customer_is_not_counted_where_a_return_would_count(policy):
    v = visit(policy, owner=ME, owner_presence=AVAILABLE, repeat_today=True)
    assert (v.category, v.counted) == ("repeat_today", False)


@pytest.mark.parametrize("policy, closed, counted", [
    ("real_estate", False, False), ("real_estate", True, False),
    ("auto_dealer", False, True), ("auto_dealer", True, True),
    ("count_all", False, True), ("count_all", True, True)])
@pytest.mark.parametrize("presence", [AVAILABLE, BUSY])
def test_handover_to_present_owner(policy, closed, counted, presence):
    v = visit(policy, owner=OTHER, owner_closed=closed, owner_presence=presence)
    assert (v.category, v.receiver, v.owner, v.owner_present) == ("handover", OTHER, OTHER, True)
    assert v.counted is counted
    assert OTHER in v.why


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
@pytest.mark.parametrize("presence", [AWAY_BUSINESS, AWAY_PERSONAL, ABSENT, None])
def test_obligation_when_owner_is_away_off_or_absent(policy, presence):
    v = visit(policy, owner=OTHER, owner_presence=presence)
    assert (v.category, v.receiver, v.counted) == ("obligation", ME, False)
    assert (v.owner, v.owner_present) == (OTHER, False)
    assert "电话" in v.why                     # tell the reporter to phone OTHER


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
def test_off_shift_new_customer_is_uncounted(policy):
    v = visit(policy, in_shift=False)
    assert (v.category, v.receiver, v.counted) == ("off_shift", ME, False)


def test_off_shift_own_return_stays_uncounted_under_count_all():
    v = visit("count_all", owner=ME, owner_presence=AVAILABLE, in_shift=False)
    assert v.counted is False


def test_preset_settings_match_the_rules_table():
    re_, ad, ca = preset("real_estate"), preset("auto_dealer"), preset("count_all")
    assert re_.helper_no_deal_owner_counted is False
    assert ad.helper_no_deal_owner_counted is True
    assert ca.helper_no_deal_owner_counted is False
    assert ad.phone_duty and ad.door_duty and not re_.phone_duty
    assert re_.brought_closed_counted == "never"
    assert ad.brought_closed_counted == "if_registered"
    assert ca.brought_closed_counted == "always"


def test_unknown_policy_override_is_refused():
    with pytest.raises(ValueError, match="未知"):
        preset("real_estate").with_overrides(no_such_setting=1)


@pytest.mark.parametrize("policy", ["real_estate", "auto_dealer", "count_all"])
def test_named_colleague_who_is_here_receives_counted_not_the_reporter(policy):
    for presence in (AVAILABLE, BUSY):
        v = visit(policy, named=True, named_for=OTHER, named_presence=presence)
        assert (v.category, v.receiver, v.counted) == ("named", OTHER, True)


def test_named_colleague_who_is_not_here_leaves_a_walk_in_for_the_rotation():
    for presence in (ABSENT, AWAY_BUSINESS, AWAY_PERSONAL, None):
        v = visit(named=True, named_for=OTHER, named_presence=presence)
        assert (v.category, v.receiver, v.counted) == ("new", ME, True)


def test_naming_oneself_is_the_plain_named_visit():
    v = visit(named=True, named_for=ME, named_presence=AVAILABLE)
    assert (v.category, v.receiver) == ("named", ME)


def test_an_owned_customer_goes_to_the_owner_even_when_named_for_someone_else():
    v = visit(owner=OTHER, owner_presence=AVAILABLE, named=True, named_for="赵六", named_presence=AVAILABLE)
    assert (v.category, v.receiver) == ("handover", OTHER)
