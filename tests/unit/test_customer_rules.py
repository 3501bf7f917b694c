"""客户登记与归属 (RULES §5): valid names and phones, tracking validity, lapse, closed customers."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rules.customers import (
    ACTIVE,
    CLOSED,
    LAPSED,
    PENDING,
    check_name,
    check_phone,
    mask,
    new_customer,
    normalize_phone,
    valid_until,
)
from rules.errors import Refused

TZ = ZoneInfo("Asia/Shanghai")


def at(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S" if s.count(":") == 2 else "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


# ---- §5.1 names ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "司马相如", "John Smith", "阿依古丽·买买提", "张" * 20])
def test_real_names_are_accepted(name):
    assert check_name(name) == name


def test_name_is_trimmed():
    assert check_name("  张三 ") == "张三"


@pytest.mark.parametrize("name", ["先生", "女士", "客户", "x", "X", "xx", "小姐", "顾客", "某某", "test"])
def test_placeholder_names_are_refused(name):
    with pytest.raises(Refused):
        check_name(name)


@pytest.mark.parametrize("name", ["张先生", "李女士", "王小姐", "刘总", "陈老板"])
def test_surname_plus_title_is_a_placeholder(name):
    with pytest.raises(Refused, match="真实姓名"):
        check_name(name)


@pytest.mark.parametrize("name", ["张", "", " ", "张" * 21])
def test_name_length_must_be_2_to_20(name):
    with pytest.raises(Refused, match="2–20"):
        check_name(name)


@pytest.mark.parametrize("name", ["张3", "13812345678", "张三!", "客户1"])
def test_names_with_digits_or_symbols_are_refused(name):
    with pytest.raises(Refused):
        check_name(name)


# ---- §5.1 phones -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 13812345678", "+8613812345678",
    "+86 138-1234-5678", "0086 138 1234 5678", "8613812345678", " 13812345678 ", "(138)12345678",
])
def test_valid_mobile_normalises_to_11_digits(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_13_to_19_is_valid(prefix):
    assert normalize_phone(prefix + "912345678") == prefix + "912345678"


@pytest.mark.parametrize("raw", [
    "1381234567",        # 10 digits
    "138123456789",      # 12 digits
    "12812345678",       # 12x is not a mobile prefix
    "11812345678",
    "10812345678",
    "23812345678",
    "+85 13812345678",
    "+86 1381234567",
    "138123a5678",
    "",
    "02112345678",       # landline
])
def test_invalid_phones_are_refused(raw):
    assert normalize_phone(raw) is None
    with pytest.raises(Refused, match="手机号"):
        check_phone(raw)


def test_mask_shows_only_first_three_and_last_four():
    assert mask("13812345678") == "138****5678"


# ---- §5.4 tracking validity --------------------------------------------------------------------
def test_tracking_valid_through_end_of_seventh_day():
    assert valid_until(at("2026-11-20 15:00"), 7) == at("2026-11-27 23:59:59")


def test_valid_until_keeps_the_time_zone():
    assert valid_until(at("2026-11-20 00:00"), 7).tzinfo is TZ


def test_customer_lapses_at_midnight_after_the_seventh_day():
    c = new_customer("张三", "13812345678", "李四", at("2026-11-20 15:00"), 7)
    assert c.effective_status(at("2026-11-27 23:59:59")) == ACTIVE
    assert c.owner_at(at("2026-11-27 23:59:59")) == "李四"
    assert c.effective_status(at("2026-11-28 00:00")) == LAPSED
    assert c.owner_at(at("2026-11-28 00:00")) is None


def test_follow_up_renews_tracking():
    c = new_customer("张三", "13812345678", "李四", at("2026-11-15 10:00"), 7)
    c.renew(at("2026-11-20 15:00"), 7)
    assert c.valid_until == at("2026-11-27 23:59:59")
    assert c.last_activity_at == at("2026-11-20 15:00")


def test_tracking_days_is_a_setting():
    assert valid_until(at("2026-11-20 15:00"), 3) == at("2026-11-23 23:59:59")


def test_lapsed_customer_goes_to_next_valid_registration():
    c = new_customer("张三", "13812345678", "李四", at("2026-11-20 15:00"), 7)
    c.register_to("王五", "张三", at("2026-11-28 10:00"), 7)
    assert c.owner_at(at("2026-11-28 10:00")) == "王五"
    assert c.valid_until == at("2026-12-05 23:59:59")
    assert c.registered_by == "王五"


def test_closed_customer_never_lapses():
    c = new_customer("张三", "13812345678", "李四", at("2026-11-20 15:00"), 7)
    c.close()
    assert c.status == CLOSED and c.valid_until is None
    assert c.effective_status(at("2027-11-20 15:00")) == CLOSED
    assert c.owner_at(at("2027-11-20 15:00")) == "李四"


def test_renewing_a_closed_customer_sets_no_deadline():
    c = new_customer("张三", "13812345678", "李四", at("2026-11-20 15:00"), 7)
    c.close()
    c.renew(at("2026-11-25 10:00"), 7)
    assert c.valid_until is None and c.status == CLOSED


# ---- §5.5 pending registrations ----------------------------------------------------------------
def test_pending_registration_creates_no_ownership():
    c = new_customer("张三", "13900001111", "王五", at("2026-11-20 15:00"), 7, pending=True)
    assert c.status == PENDING
    assert c.owner is None and c.owner_at(at("2026-11-20 15:00")) is None
    assert c.registered_by == "王五"
    assert c.valid_until is None
