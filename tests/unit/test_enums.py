"""rules/enums.py: the StrEnums must stay the very words the database, the state dump and the
catalogue already hold (a renamed value would orphan every stored row)."""
from __future__ import annotations

import json

from rules import texts as T
from rules.enums import MANAGES, SELLS, AuditKind, Category, CustomerStatus, Presence, Role
from rules.queue import Day


def test_every_enum_value_is_the_word_already_stored():
    assert [str(p) for p in Presence] == ["available", "busy", "away_business", "away_personal", "absent"]
    assert {str(c) for c in Category} == {
        "new", "named", "own_return_open", "own_return_closed", "brought_open", "brought_closed", "repeat_today",
        "handover", "helper", "obligation", "non_buyer", "errand", "off_shift"}
    assert [str(s) for s in CustomerStatus] == ["active", "lapsed", "closed", "pending"]
    assert [str(r) for r in Role] == ["sales", "manager", "both"]
    assert [str(k) for k in AuditKind] == ["cmd", "system", "undo"]


def test_a_member_compares_hashes_formats_and_serialises_as_its_plain_word():
    assert Presence.BUSY == "busy" and hash(Presence.BUSY) == hash("busy")
    assert {"busy": 1}[Presence.BUSY] == 1
    assert f"{Category.NON_BUYER}|{Category.NON_BUYER!s}|%s" % Category.NON_BUYER == "non_buyer|non_buyer|non_buyer"
    assert json.dumps({"p": Presence.AWAY_BUSINESS, "r": [Role.BOTH]}) == '{"p": "away_business", "r": ["both"]}'


def test_a_salesperson_role_sells_and_a_manager_role_manages_and_both_does_both():
    assert "sales" in SELLS and "both" in SELLS and "manager" not in SELLS
    assert "manager" in MANAGES and "both" in MANAGES and "sales" not in MANAGES


def test_every_presence_category_and_status_has_its_words_in_the_catalogue():
    assert set(T.PRESENCE) == set(Presence)
    assert set(T.CATEGORY) == set(Category)
    assert set(T.STATUS) == set(CustomerStatus)
    assert set(T.SKIPPED_AS) <= set(Presence)


def test_a_day_changed_by_the_rules_is_stored_with_plain_words_and_reads_back_equal():
    from datetime import date
    day = Day()
    day.open_with(date(2026, 11, 27), ["李四", "王五"])
    day.sign_in("李四")
    day.sign_in("王五")
    day.start_reception("李四", 1)
    text = json.dumps(day.to_dict(), ensure_ascii=False)
    assert '"presence": "busy"' in text and '"presence": "available"' in text
    assert Day.from_dict(json.loads(text)).to_dict() == day.to_dict()
