"""Issue 17 items 13–17 on the handler fakes: 送客 names its reception, 更正 a mistyped phone, a lapse
and its former owner, one record per person, and commands sent in a private chat."""
from __future__ import annotations

import pytest

from tests.unit.group import Office

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


# ---- item 15: /核实 … 同一人 makes one record; a customer may have several phones ------------------
def _same_person(office) -> None:
    """李四 registers 张三; 王五 registers 张三 with another phone (pending); the manager: 同一人."""
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 张三 13812345678", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    office.say("王五", "到访 张三 13900002222", "2026-11-20 10:00")
    said = office.say("张经理", "/核实 13900002222 同一人", "2026-11-20 10:05")
    assert not said.refused and "139****2222 并入同一客户" in said.text


def test_verified_same_person_is_one_record_with_both_phones(office):
    _same_person(office)
    rows = [r for r in office.uow.customers.rows if r.name == "张三"]
    assert len(rows) == 1 and rows[0].phone == "13812345678"
    assert office.uow.customers.phones_of(rows[0].id) == ["13900002222"]
    assert all(r.customer_id == rows[0].id for r in office.uow.receptions.rows)
    for key in ("13900002222", "139****2222", "2222", "13812345678", "张三"):
        said = office.say("王五", f"查客 {key}", "2026-11-20 11:00")
        assert "张三" in said.text and "归属 李四" in said.text and "2 位" not in said.text, key


def test_a_follow_up_by_the_second_phone_renews_the_one_record(office):
    _same_person(office)
    said = office.say("李四", "跟进 13900002222 电话沟通", "2026-11-25 15:00")
    assert not said.refused and "12-02" in said.text
    # the day after the first phone's old deadline (11-27) the person is still 李四's, by either phone
    for phone in ("13812345678", "13900002222"):
        said = office.say("王五", f"查客 {phone}", "2026-11-28 10:00")
        assert "归属 李四" in said.text and "跟踪中" in said.text


def test_the_second_phone_does_not_lapse_apart_and_a_rival_cannot_take_it(office):
    _same_person(office)
    office.say("李四", "跟进 13812345678 电话沟通", "2026-11-26 15:00")     # valid through 12-03
    office.say("张经理", "/开班 王五 李四", "2026-11-29 09:00")
    said = office.say("王五", "到访 张三 13900002222", "2026-11-29 09:05")
    assert "是 李四 的客户" in said.text and "归属 王五" not in said.text
    assert not [r for r in office.uow.customers.rows if r.owner == "王五"]


def test_one_set_of_reminders_for_the_person(office):
    _same_person(office)
    out = [o for o in office.due("2026-11-26 09:00") if o.to == "李四"]
    assert len(out) == 1 and out[0].text.count("张三") == 1


def test_a_deal_by_the_second_phone_is_credited_to_the_owner(office):
    _same_person(office)
    office.say("张经理", "/开班 李四 王五", "2026-11-21 09:00")
    said = office.say("王五", "成交 张三 13900002222", "2026-11-21 10:00")
    assert not said.refused and said.text.startswith("成交登记：张三（138****5678）1套，业绩 李四")


# ---- item 14: a lapse at 24:00, registered again at 00:02 --------------------------------------------
def _lapsed_and_taken(office) -> None:
    """顾一 is 李四's through 11-27; 王五 registers him at 00:02 on 11-28."""
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 顾一 13800001111", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    office.due("2026-11-27 23:59")
    said = office.say("王五", "到访 顾一 13800001111", "2026-11-28 00:02")
    assert "归属 王五" in said.text or "归 王五" in said.text, said.text


def test_the_former_owner_and_managers_are_told_of_a_lapse_taken_at_once_naming_the_new_owner(office):
    _lapsed_and_taken(office)
    assert not [o for o in office.due("2026-11-28 08:59") if "公客" in o.text]       # never at night
    out = [o for o in office.due("2026-11-28 09:00") if "公客" in o.text]
    assert sorted(o.to for o in out) == ["张经理", "李四"]
    assert all("顾一（138****1111）" in o.text and "现已由 王五 重新登记" in o.text and "11-27 24:00" in o.text
               for o in out)
    assert not [o for o in office.due("2026-11-29 09:00") if "公客" in o.text]       # once
    renew = [o for o in office.due("2026-12-04 09:00") if o.to == "王五"]             # the new owner's own
    assert len(renew) == 1 and "顾一" in renew[0].text


def test_a_lapse_notice_is_still_one_message_for_several_customers_of_one_owner(office):
    office.say("张经理", "/开班 李四", "2026-11-20 09:00")
    office.say("李四", "到访 顾一 13800001111", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    office.say("李四", "到访 顾二 13800002222", "2026-11-20 09:35")
    office.say("李四", "送客", "2026-11-20 09:40")
    office.due("2026-11-27 23:59")
    office.say("王五", "到访 顾一 13800001111", "2026-11-28 00:02")
    out = [o for o in office.due("2026-11-28 09:00") if o.to == "李四"]
    assert len(out) == 1 and "顾一" in out[0].text and "顾二" in out[0].text and "现已由 王五" in out[0].text


@pytest.mark.parametrize("key", ["13800001111", "138****1111", "顾一", "138 0000 1111"])
def test_the_former_owners_follow_up_says_when_it_lapsed_and_who_holds_it(office, key):
    _lapsed_and_taken(office)
    said = office.say("李四", f"跟进 {key} 打过电话", "2026-11-28 10:00")
    assert said.refused and "你名下没有" not in said.text
    assert "11-27 24:00 起成为公客" in said.text and "现归 王五" in said.text and "13800001111" not in said.text
    assert "申诉 138****1111 理由" in said.text


def test_the_suggested_appeal_is_accepted_and_reaches_the_managers_once(office):
    _lapsed_and_taken(office)
    hint = office.say("李四", "跟进 顾一 打过电话", "2026-11-28 10:00").text
    start = hint.index("申诉 ")
    suggested = hint[start:hint.index("（", start)]
    first = office.say("李四", suggested, "2026-11-28 10:05")
    assert not first.refused and "无需申诉" not in first.text and "现归 王五" in first.text
    assert [t.to for t in first.tells] == ["张经理"]
    assert "归属申诉：李四" in first.tells[0].text and "11-27 24:00 到期" in first.tells[0].text
    again = office.say("李四", "申诉 13800001111 我一直在跟", "2026-11-28 10:06")
    assert not again.refused and again.tells == () and "已提交过" in again.text


def test_a_lapsed_customer_nobody_took_is_answered_with_its_lapse(office):
    office.say("张经理", "/开班 李四 王五", "2026-11-20 09:00")
    office.say("李四", "到访 顾一 13800001111", "2026-11-20 09:05")
    said = office.say("李四", "跟进 顾一 打过电话", "2026-11-28 10:00")
    assert said.refused and "11-27 24:00 起成为公客" in said.text and "你名下没有" not in said.text
    assert office.say("李四", "申诉 13800001111 我在跟", "2026-11-28 10:01").text.startswith("顾一 现在是公客")


def test_an_ownership_appeal_has_a_window_and_is_refused_to_the_owner(office):
    _lapsed_and_taken(office)
    assert office.say("王五", "申诉 13800001111 是我的", "2026-11-28 10:00").text == "顾一 现在归你，无需申诉。"
    office.say("王五", "跟进 13800001111 约了下周", "2026-12-04 10:00")
    late = office.say("李四", "申诉 13800001111 我一直在跟", "2026-12-06 10:00")
    assert late.refused and "归属申诉期已于 12-05 结束" in late.text and late.tells == ()
    assert not office.say("赵六", "申诉 13800001111 我也接待过", "2026-12-05 10:00").refused


# ---- item 13: a mistyped phone is corrected with 更正 旧手机 新手机 ------------------------------------
def _typo(office) -> None:
    """李四 registers 张三 with a mistyped phone (…1111 instead of …1112)."""
    office.say("张经理", "/开班 李四 王五", f"{D} 09:00")
    office.say("李四", "到访 张三 13800001111", f"{D} 09:05")


def test_visit_again_with_the_right_number_points_to_the_correction_and_changes_nothing(office):
    _typo(office)
    before = office.state()
    said = office.say("李四", "到访 张三 13800001112", f"{D} 09:06")
    assert said.refused and "不能再接新客户" in said.text
    assert "如果是 张三 的手机号填错了，不用 /撤销，请发：更正 138****1111 新手机" in said.text
    assert office.state() == before


@pytest.mark.parametrize("text", [
    "更正 13800001111 13800001112", "更正 138****1111 13800001112", "更正：13800001111，13800001112",
    "更正 13800001111 改为 13800001112", "更正 13800001111改成13800001112", "更正 旧 13800001111 新 13800001112",
    "更正 138 0000 1111 138-0000-1112", "更正 13800001111 → 13800001112", "更正了 13800001111 13800001112",
    "/更正 +86 13800001111 13800001112", "更正 手机 13800001111 应该是 13800001112",
    "更正 １３８００００１１１１ １３８００００１１１２",
])
def test_the_owner_corrects_a_mistyped_phone_as_typed_in_a_hurry(office, text):
    _typo(office)
    queue = office.queue()
    said = office.say("李四", text, f"{D} 09:07")
    assert not said.refused, said.text
    assert said.text == "已更正 张三 的手机：138****1111 → 138****1112，归属 李四 不变。"
    assert "归属 李四" in office.say("王五", "查客 13800001112", f"{D} 09:08").text
    assert office.say("王五", "查客 13800001111", f"{D} 09:08").refused
    assert office.queue() == queue                     # the turn it used stays used, nothing else moves
    [row] = office.uow.customers.rows
    assert (row.owner, row.phone) == ("李四", "13800001112")


def test_the_corrected_phone_is_the_one_follow_ups_and_deals_find(office):
    _typo(office)
    office.say("李四", "更正 13800001111 13800001112", f"{D} 09:07")
    assert not office.say("李四", "跟进 13800001112 看了样板间", f"{D} 09:20").refused
    deal = office.say("王五", "成交 张三 13800001112", f"{D} 10:00")
    assert deal.text.startswith("成交登记：张三（138****1112）1套，业绩 李四")


@pytest.mark.parametrize("who,text,why", [
    ("王五", "更正 13800001111 13800001112", "只有归属人（登记当天）或经理可以更正手机号"),
    ("李四", "更正 13800001111 13800001111", "无需更正"),
    ("李四", "更正 13800001111 1380000111", "手机"),
    ("李四", "更正 13800001111 13900003333", "已是另一位客户 刘一 的手机（归属 王五）"),
])
def test_a_phone_correction_that_is_not_the_owners_to_make_is_refused_and_changes_nothing(office, who, text, why):
    _typo(office)
    office.say("李四", "送客", f"{D} 09:10")
    office.say("王五", "到访 刘一 13900003333", f"{D} 09:12")
    before = office.state()
    said = office.say(who, text, f"{D} 09:15")
    assert said.refused and why in said.text, said.text
    assert office.state() == before


def test_a_rival_cannot_move_a_colleagues_phone_onto_his_own_customer(office):
    _typo(office)
    office.say("李四", "送客", f"{D} 09:10")
    office.say("王五", "到访 刘一 13900003333", f"{D} 09:12")
    said = office.say("王五", "更正 13900003333 13800001111", f"{D} 09:15")
    assert said.refused and "张三" in said.text and "归属 李四" in said.text


def test_after_the_registration_day_only_a_manager_corrects_the_phone(office):
    _typo(office)
    late = office.say("李四", "更正 13800001111 13800001112", "2026-11-28 10:00")
    assert late.refused and "经理发：更正 138****1111 新手机" in late.text
    said = office.say("张经理", "更正 138****1111 13800001112", "2026-11-28 10:01")
    assert not said.refused and "归属 李四 不变" in said.text


def test_a_further_phone_is_corrected_without_touching_the_first(office):
    _same_person(office)
    said = office.say("张经理", "更正 139****2222 13900002223", "2026-11-21 10:00")
    assert not said.refused and "139****2222 → 139****2223" in said.text
    [row] = [r for r in office.uow.customers.rows if r.name == "张三"]
    assert row.phone == "13812345678" and office.uow.customers.phones_of(row.id) == ["13900002223"]


def test_the_name_correction_still_works(office):
    _typo(office)
    said = office.say("李四", "更正 13800001111 张珊", f"{D} 09:07")
    assert not said.refused and "张三 → 张珊" in said.text


def test_the_suggested_correction_typed_with_its_placeholder_renames_nobody(office):
    _typo(office)
    before = office.state()
    for text in ("更正 138****1111 新手机", "更正 138****1111 新手机号", "更正 13800001111 正确手机号",
                 "更正 13800001111 手机"):
        said = office.say("李四", text, f"{D} 09:07") if _parses(text) else None
        assert said is None or said.refused
    assert office.state() == before


def _parses(text: str) -> bool:
    from bot.parser import Usage, parse
    try:
        return parse(text) is not None
    except Usage:
        return False


def test_an_unused_approval_lapses_when_the_member_is_free_again(office):
    office.say("张经理", "/开班 李四 王五", f"{D} 09:00")
    office.say("李四", "到访 张三 13812345678", f"{D} 09:05")
    office.say("张经理", "/批准 李四", f"{D} 09:10")
    office.say("李四", "送客", f"{D} 09:20")                   # free again, the approval unused
    office.say("王五", "接待", f"{D} 09:25")
    took = office.say("李四", "到访 刘一 13900001111", f"{D} 09:30")
    assert not took.refused and "下一位:李四" not in took.text      # busy with 刘一: not next-up
    office.say("王五", "送客", f"{D} 09:35")
    assert office.say("李四", "接待", f"{D} 09:40").refused            # no second customer without a new /批准


@pytest.mark.parametrize("text", [
    "申诉 13800001111 我一直在跟", "申诉 138****1111 我一直在跟", "申诉：13800001111，他抢我客户",
    "申诉 138 0000 1111 一直在跟", "申诉了 13800001111 我先登记的", "/申诉 13800001111 我先登记的",
    "申诉13800001111 一直在跟", "申诉 +86 138-0000-1111 跟了一周", "申诉 顾一 13800001111 我的客户",
    "申诉 13800001111 我的客户！",
])
def test_the_former_owners_appeal_as_typed_in_a_hurry(office, text):
    _lapsed_and_taken(office)
    said = office.say("李四", text, "2026-11-28 10:05")
    assert not said.refused and said.text.startswith("对 顾一 归属（现归 王五）的申诉已提交给经理"), said.text
    assert [t.to for t in said.tells] == ["张经理"]


def test_a_lapse_the_former_owner_registered_again_himself_is_still_told_naming_him(office):
    office.say("张经理", "/开班 李四", "2026-11-20 09:00")
    office.say("李四", "到访 顾一 13800001111", "2026-11-20 09:05")
    office.say("李四", "送客", "2026-11-20 09:30")
    office.due("2026-11-27 23:59")
    office.say("李四", "到访 顾一 13800001111", "2026-11-28 00:02")
    out = [o for o in office.due("2026-11-28 09:00") if "公客" in o.text]
    assert sorted(o.to for o in out) == ["张经理", "李四"] and all("现已由 李四 重新登记" in o.text for o in out)
    assert not office.say("李四", "跟进 顾一 约了周末", "2026-11-28 10:00").refused
