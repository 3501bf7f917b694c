"""rules.customers.facts_of_change: which dated facts a change to a customer's record makes (RULES §11)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules import customers as cr
from rules.enums import FactKind

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 9, 5, tzinfo=TZ)


def registered(owner="李四", when=T0) -> cr.Customer:
    return cr.new_customer("张三", "13812345678", owner, when, 7)


def test_a_new_customer_is_one_registration():
    c = registered()
    assert cr.facts_of_change(None, c, T0) == [cr.Fact(FactKind.REGISTERED, "李四", T0)]


def test_a_public_customer_registered_again_is_a_lapse_and_a_registration():
    before = registered()
    later = T0 + timedelta(days=20)
    after = replace(before)
    after.register_to("王五", "张三", later, 7)
    assert cr.facts_of_change(before, after, later) == [
        cr.Fact(FactKind.LAPSED, "李四", before.valid_until), cr.Fact(FactKind.REGISTERED, "王五", later)]


def test_a_follow_up_within_validity_makes_no_fact():
    before = registered()
    after = replace(before)
    after.renew(T0 + timedelta(days=3), 7)
    assert cr.facts_of_change(before, after, T0 + timedelta(days=3)) == []


def test_verifying_a_pending_registration_is_not_a_second_one():
    before = cr.new_customer("张三", "13812345678", "李四", T0, 7, pending=True)
    after = replace(before)
    after.register_to("李四", "张三", T0 + timedelta(hours=2), 7)
    assert cr.facts_of_change(before, after, T0 + timedelta(hours=2)) == []


def test_an_untouched_lapsed_record_writes_nothing_yet():
    before = registered()
    assert cr.facts_of_change(before, replace(before), T0 + timedelta(days=20)) == []
