"""Issue 17 items 13–17 on the handler fakes: 送客 names its reception, 更正 a mistyped phone, a lapse
and its former owner, one record per person, and commands sent in a private chat."""
from __future__ import annotations

import pytest

from tests.unit.office import Office

D = "2026-11-27"


@pytest.fixture
def office(config_file):
    return Office(config_file(), since="2026-11-20 08:00")


def _two_open(office) -> None:
    """李四 receives 张三, the manager lets him take 刘一 too."""
    office.say("张经理", "/开班 李四", f"{D} 09:00")
    office.say("李四", "到访 张三 13812345678", f"{D} 09:05")
    office.say("张经理", "/批准 李四", f"{D} 09:10")
    assert not office.say("李四", "到访 刘一 13900001111", f"{D} 09:12").refused


# ---- item 17: 送客 ends only the right reception -----------------------------------------------
def test_a_bare_see_off_with_two_customers_lists_them_and_changes_nothing(office):
    _two_open(office)
    before = office.state()
    said = office.say("李四", "送客", f"{D} 09:30")
    assert said.refused and "2 位客户在接待中" in said.text
    assert "送客 张三" in said.text and "送客 刘一" in said.text and "13812345678" not in said.text
    assert office.state() == before


def test_seeing_off_one_of_two_keeps_the_member_busy_and_not_next_up(office):
    _two_open(office)
    said = office.say("李四", "送客 张三", f"{D} 09:30")
    assert not said.refused and "还有 1 位客户在接待中" in said.text and "下一位:李四" not in said.text
    assert [q["presence"] for q in office.queue() if q["name"] == "李四"] == ["busy"]
    assert office.say("李四", "接待", f"{D} 09:31").refused          # still with 刘一: no walk-in
    office.say("王五", "签到", f"{D} 09:31")
    assert not office.say("王五", "接待", f"{D} 09:32").refused
    last = office.say("李四", "送客", f"{D} 09:40")                # the only one left: a bare 送客 ends it
    assert "已在岗" in last.text
    assert [q["presence"] for q in office.queue() if q["name"] == "李四"] == ["available"]


@pytest.mark.parametrize("key", ["刘一", "刘 一", "13900001111", "139 0000 1111", "139-0000-1111",
                                 "139****1111", "139＊＊＊＊1111", "1111", "刘一！", "+86 13900001111"])
def test_see_off_names_the_customer_as_a_hurried_salesperson_types_it(office, key):
    _two_open(office)
    said = office.say("李四", f"送客 {key}", f"{D} 09:30")
    assert not said.refused, said.text
    assert "送走 刘一" in said.text and "还有 1 位" in said.text


@pytest.mark.parametrize("key", ["王五", "13812340000", "138****0000", "陈静"])
def test_see_off_naming_nobody_of_mine_changes_nothing_and_lists_mine(office, key):
    _two_open(office)
    before = office.state()
    said = office.say("李四", f"送客 {key}", f"{D} 09:30")
    assert said.refused and "送客 张三" in said.text
    assert office.state() == before


def test_a_rival_cannot_see_off_a_colleagues_customer(office):
    _two_open(office)
    office.say("王五", "签到", f"{D} 09:19")
    office.say("王五", "接待", f"{D} 09:20")
    before = office.state()
    said = office.say("王五", "送客 张三", f"{D} 09:30")
    assert said.refused and office.state() == before


def test_two_unregistered_walk_ins_are_told_apart_by_their_start_time(office):
    office.say("张经理", "/开班 李四", f"{D} 09:00")
    office.say("李四", "接待", f"{D} 09:05")
    office.say("张经理", "/批准 李四", f"{D} 09:10")
    office.say("李四", "接待", f"{D} 09:12")
    listed = office.say("李四", "送客 未登记", f"{D} 09:20")
    assert listed.refused and "送客 09:05" in listed.text and "送客 09:12" in listed.text
    assert "还有 1 位" in office.say("李四", "送客 09:05", f"{D} 09:21").text
