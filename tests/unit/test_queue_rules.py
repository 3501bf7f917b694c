"""今日轮排 (RULES §2, §3), one test per rule, on rules.queue.Day directly: no DB, no clock."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.queue import ABSENT, AVAILABLE, AWAY_BUSINESS, AWAY_PERSONAL, BUSY, Day, DayFacts

TODAY = date(2026, 11, 27)
YESTERDAY = TODAY - timedelta(days=1)
ROSTER = ["甲", "乙", "丙", "丁"]


def day_with(names=ROSTER, **presence) -> Day:
    """Today's queue exactly `names`, all available, then the given presences."""
    d = Day()
    d.open_with(TODAY, list(names))
    for name, p in presence.items():
        d.set_presence(name, p, "测试")
    return d


def order(d: Day) -> str:
    return " ".join(d.names())


# ---- §2 the business day --------------------------------------------------------------
def test_carry_over_continues_yesterdays_order_then_new_roster_members():
    d = day_with(["丙", "甲"])
    d.date = YESTERDAY
    d.open(TODAY, ["甲", "乙", "丙", "丁"], carry_over=True)
    assert order(d) == "丙 甲 乙 丁"
    assert d.date == TODAY


def test_carry_over_drops_members_no_longer_on_the_roster():
    d = day_with(["丙", "戊", "甲"])
    d.date = YESTERDAY
    d.open(TODAY, ["甲", "乙", "丙"], carry_over=True)
    assert order(d) == "丙 甲 乙"


def test_fixed_order_uses_roster():
    d = day_with(["丙", "甲", "丁", "乙"])
    d.date = YESTERDAY
    d.open(TODAY, ROSTER, carry_over=False)
    assert order(d) == "甲 乙 丙 丁"


def test_opening_resets_counts_and_keeps_an_unused_makeup_only_under_carry_over():
    for carry_over, makeups in ((True, {"丙"}), (False, set())):
        d = day_with()
        d.take_walk_in("甲")
        d.give_makeup("丙")
        d.date = YESTERDAY
        d.open(TODAY, ROSTER, carry_over=carry_over)
        assert all(e.counted == 0 for e in d.queue)
        assert {e.name for e in d.queue if e.makeup is not None} == makeups


def test_members_not_signed_in_before_opening_are_absent():
    d = Day()
    d.early_date, d.early = TODAY, ["乙"]
    d.open(TODAY, ROSTER, carry_over=True)
    assert {e.name: e.presence for e in d.queue} == {
        "甲": ABSENT, "乙": AVAILABLE, "丙": ABSENT, "丁": ABSENT}
    assert d.next_up() == "乙"


def test_sign_ins_before_another_days_opening_do_not_count():
    d = Day()
    d.early_date, d.early = YESTERDAY, ["乙"]
    d.open(TODAY, ROSTER, carry_over=True)
    assert d.entry("乙").presence == ABSENT
    assert d.next_up() is None


def test_leave_before_opening_leaves_member_out_of_the_queue():
    d = Day()
    d.early_date, d.early, d.early_off = TODAY, ["甲"], ["丙"]
    d.open(TODAY, ROSTER, carry_over=True)
    assert order(d) == "甲 乙 丁"
    assert "丙" in d.off


def test_latecomer_joins_at_tail():
    d = day_with(["甲", "乙", "丙"])
    d.leave("丁", "请假")       # not in the queue
    d.sign_in("丁")
    assert order(d) == "甲 乙 丙 丁"
    assert d.entry("丁").presence == AVAILABLE
    assert "丁" not in d.off


def test_absent_member_signing_in_keeps_position():
    d = day_with(甲=ABSENT)
    d.sign_in("甲")
    assert order(d) == "甲 乙 丙 丁"
    assert d.next_up() == "甲"


def test_open_with_names_keeps_todays_counts():
    d = day_with()
    d.take_walk_in("甲")
    d.take_walk_in("乙")
    d.open_with(TODAY, ["乙", "丙", "甲"])
    assert order(d) == "乙 丙 甲"
    assert {e.name: e.counted for e in d.queue} == {"乙": 1, "丙": 0, "甲": 1}
    assert d.entry("丁") is None                 # not named: off today


def test_open_with_names_makes_everyone_available():
    d = day_with(甲=ABSENT, 乙=AWAY_PERSONAL)
    d.open_with(TODAY, ["甲", "乙"])
    assert [e.presence for e in d.queue] == [AVAILABLE, AVAILABLE]


def test_open_with_names_on_a_new_day_starts_counts_at_zero():
    d = day_with()
    d.take_walk_in("甲")
    d.date = YESTERDAY
    d.open_with(TODAY, ["甲", "乙"])
    assert d.entry("甲").counted == 0


def test_leave_removes_member_from_todays_queue():
    d = day_with()
    d.leave("乙", "签退")
    assert order(d) == "甲 丙 丁"
    assert d.off == ["乙"]


# ---- §3 presence and next-up ---------------------------------------------------------
def test_next_up_is_first_available_member():
    d = day_with(甲=BUSY, 乙=AWAY_BUSINESS, 丙=AWAY_PERSONAL)
    assert d.next_up() == "丁"


def test_next_up_is_none_when_nobody_is_available():
    d = day_with(甲=BUSY, 乙=ABSENT, 丙=AWAY_PERSONAL, 丁=AWAY_BUSINESS)
    assert d.next_up() is None


# ---- §3.1 rotation reception ---------------------------------------------------------
def test_counted_walk_in_moves_receiver_to_tail_and_count_rises():
    d = day_with()
    d.take_walk_in("甲")
    assert order(d) == "乙 丙 丁 甲"
    assert d.entry("甲").counted == 1


def test_absent_member_ahead_is_skipped_to_tail_without_makeup():
    d = day_with()
    d.give_makeup("乙")
    d.set_presence("乙", ABSENT, "未到")
    d.give_makeup("甲")          # behind 乙, who earned a make-up first
    assert order(d) == "乙 甲 丙 丁"
    d.take_walk_in("甲")
    assert order(d) == "丙 丁 乙 甲"
    assert d.entry("乙").makeup is None and d.entry("乙").counted == 0
    assert d.entry("甲").makeup is None      # used up by the counted reception


def test_away_personal_member_ahead_is_skipped_to_tail_without_makeup():
    d = day_with(甲=AWAY_PERSONAL)
    d.take_walk_in("乙")
    assert order(d) == "丙 丁 甲 乙"
    assert d.entry("甲").counted == 0 and d.entry("甲").makeup is None


def test_skipped_members_keep_their_relative_order():
    d = day_with(甲=ABSENT, 乙=AWAY_PERSONAL)
    d.take_walk_in("丙")
    assert order(d) == "丁 甲 乙 丙"


def test_business_trip_keeps_position():
    d = day_with(甲=AWAY_BUSINESS)
    d.take_walk_in("乙")
    assert order(d) == "甲 丙 丁 乙"
    d.set_presence("甲", AVAILABLE, "回来")
    assert d.next_up() == "甲"            # takes the first new customer on return


def test_busy_member_ahead_keeps_position():
    d = day_with(甲=BUSY)
    d.take_walk_in("乙")
    assert order(d) == "甲 丙 丁 乙"
    d.set_presence("甲", AVAILABLE, "送客")
    assert d.next_up() == "甲"


def test_members_behind_the_receiver_are_not_skipped():
    d = day_with(丁=ABSENT)
    d.take_walk_in("甲")
    assert order(d) == "乙 丙 丁 甲"


def test_uncounted_walk_in_leaves_the_receiver_in_place():
    d = day_with()
    d.take_walk_in("甲", counted=False)
    assert order(d) == "甲 乙 丙 丁"
    assert d.entry("甲").counted == 0


# ---- §3.2, §3.3 out of rotation --------------------------------------------------------
def test_out_of_rotation_counted_reception_moves_only_the_receiver():
    d = day_with(甲=ABSENT)
    d.count_out_of_rotation("丙")
    assert order(d) == "甲 乙 丁 丙"
    assert d.entry("丙").counted == 1
    assert d.entry("甲").presence == ABSENT


# ---- §3.4 make-up ------------------------------------------------------------------------
def test_makeup_moves_member_to_the_front():
    d = day_with()
    d.give_makeup("丁")
    assert order(d) == "丁 甲 乙 丙"
    assert d.next_up() == "丁"


def test_makeup_first_earned_first_served():
    d = day_with()
    d.give_makeup("丙")
    d.give_makeup("丁")
    d.give_makeup("乙")
    assert order(d) == "丙 丁 乙 甲"


def test_makeup_used_up_by_next_counted_reception():
    d = day_with()
    d.give_makeup("丙")
    d.take_walk_in("丙")
    assert d.entry("丙").makeup is None
    assert order(d) == "甲 乙 丁 丙"
    d.give_makeup("乙")
    assert order(d) == "乙 甲 丁 丙"       # 丙 no longer holds a make-up


def test_makeup_holder_who_is_busy_keeps_front_and_takes_next_when_free():
    d = day_with()
    d.give_makeup("丙")
    d.set_presence("丙", BUSY, "接待中")
    d.take_walk_in("甲")
    assert order(d) == "丙 乙 丁 甲"
    assert d.entry("丙").makeup is not None
    d.set_presence("丙", AVAILABLE, "送客")
    assert d.next_up() == "丙"


def test_skip_loses_makeup():
    d = day_with()
    d.give_makeup("丙")
    d.skip("丙", "没打招呼")
    e = d.entry("丙")
    assert order(d) == "甲 乙 丁 丙"
    assert e.makeup is None and e.presence == ABSENT and e.counted == 0


def test_skip_of_busy_member_keeps_busy():
    d = day_with(甲=BUSY)
    d.skip("甲", "")
    assert d.entry("甲").presence == BUSY
    assert order(d) == "乙 丙 丁 甲"


def test_skipping_by_rotation_loses_makeup():
    d = day_with()
    d.give_makeup("乙")
    d.set_presence("乙", AWAY_PERSONAL, "暂离")
    d.take_walk_in("甲")
    assert d.entry("乙").makeup is None
    assert order(d) == "丙 丁 乙 甲"


# ---- §3.5 refund --------------------------------------------------------------------------
def test_refund_lowers_count_and_gives_makeup():
    d = day_with()
    d.take_walk_in("甲")
    d.take_walk_in("乙")
    assert order(d) == "丙 丁 甲 乙"
    d.refund("甲", "同事老客户")
    assert d.entry("甲").counted == 0
    assert d.entry("甲").makeup is not None
    assert order(d) == "甲 丙 丁 乙"


def test_uncount_changes_count_not_position():
    d = day_with()
    d.take_walk_in("甲")
    d.uncount("甲")
    assert d.entry("甲").counted == 0
    assert order(d) == "乙 丙 丁 甲"


def test_count_never_goes_below_zero():
    d = day_with()
    d.uncount("甲")
    assert d.entry("甲").counted == 0


# ---- §3.6 busy members and /批准 -----------------------------------------------------------
def test_busy_member_is_not_next_up_without_approval():
    d = day_with(甲=BUSY)
    assert d.next_up() == "乙"
    assert d.next_up(approved="甲") == "乙"     # no approval recorded yet


def test_approved_busy_member_may_take_a_walk_in():
    d = day_with(甲=BUSY)
    d.entry("甲").approved = 1
    assert d.next_up(approved="甲") == "甲"


# ---- §3.7 /指派 ----------------------------------------------------------------------------
def test_assigned_member_is_next_up():
    d = day_with()
    d.assigned = "丙"
    assert d.next_up() == "丙"


def test_assigned_member_moves_alone():
    d = day_with(甲=ABSENT)
    d.assigned = "丙"
    d.take_walk_in("丙")
    assert order(d) == "甲 乙 丁 丙"            # 甲 (absent, ahead) not skipped
    assert d.entry("丙").counted == 1
    assert d.assigned is None
    assert d.next_up() == "乙"


def test_assignment_of_unavailable_member_falls_back_to_queue():
    d = day_with()
    d.assigned = "丙"
    d.set_presence("丙", AWAY_PERSONAL, "暂离")
    assert d.next_up() == "甲"


def test_skip_clears_assignment():
    d = day_with()
    d.assigned = "乙"
    d.skip("乙", "")
    assert d.assigned is None


# ---- receptions and presence ---------------------------------------------------------------
def test_reception_makes_busy_and_last_send_off_makes_available():
    d = day_with()
    d.start_reception("甲", 1)
    d.start_reception("甲", 2)
    assert d.entry("甲").presence == BUSY
    d.end_reception("甲", 1)
    assert d.entry("甲").presence == BUSY
    d.end_reception("甲", 2)
    assert d.entry("甲").presence == AVAILABLE


def test_set_order_sets_todays_order():
    d = day_with()
    d.set_order(["丁", "丙", "乙", "甲"])
    assert order(d) == "丁 丙 乙 甲"


# ---- the RULES §3 worked example, step by step ------------------------------------------------
def test_rules_worked_example_step_by_step():
    d = Day()
    d.early_date, d.early = TODAY, ["甲", "丙", "丁"]     # 乙 is absent
    d.open(TODAY, ROSTER, carry_over=False)
    assert order(d) == "甲 乙 丙 丁"
    assert d.next_up() == "甲"

    d.take_walk_in("甲")
    assert order(d) == "乙 丙 丁 甲"
    assert d.next_up() == "丙"

    d.take_walk_in("丙")
    assert order(d) == "丁 甲 乙 丙"

    d.sign_in("乙")
    d.set_presence("丁", AWAY_BUSINESS, "外出")
    assert d.next_up() == "甲"
    d.take_walk_in("甲")
    assert order(d) == "丁 乙 丙 甲"

    d.set_presence("丁", AVAILABLE, "回来")
    assert d.next_up() == "丁"
    d.take_walk_in("丁")
    assert order(d) == "乙 丙 甲 丁"
    assert {e.name: e.counted for e in d.queue} == {"乙": 0, "丙": 1, "甲": 2, "丁": 1}


# ---- §11 invariants ------------------------------------------------------------------------
OPS = st.lists(st.tuples(
    st.sampled_from(["walk_in", "makeup", "refund", "skip", "presence", "out_of_rotation", "assign"]),
    st.sampled_from(ROSTER),
    st.sampled_from([AVAILABLE, BUSY, AWAY_BUSINESS, AWAY_PERSONAL, ABSENT])), max_size=30)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_queue_stays_a_permutation_and_walk_ins_go_to_available_members(ops):
    d = day_with()
    taken = 0
    for op, name, presence in ops:
        if op == "walk_in":
            nxt = d.next_up()
            if nxt is None:
                continue
            assert d.entry(nxt).presence == AVAILABLE
            d.take_walk_in(nxt)
            taken += 1
        elif op == "makeup":
            d.give_makeup(name)
        elif op == "refund":
            d.refund(name, "测试")
        elif op == "skip":
            d.skip(name, "")
        elif op == "presence":
            d.set_presence(name, presence, "测试")
        elif op == "out_of_rotation":
            d.count_out_of_rotation(name)
        elif op == "assign" and d.entry(name).presence == AVAILABLE:
            d.assigned = name
        assert sorted(d.names()) == sorted(ROSTER)
        assert all(e.counted >= 0 for e in d.queue)
        holders = [e.makeup for e in d.queue if e.makeup is not None]
        assert len(holders) == len(set(holders))


@settings(max_examples=50, deadline=None)
@given(OPS)
def test_state_round_trips_through_storage(ops):
    d = day_with()
    for op, name, presence in ops:
        if op == "walk_in" and d.next_up():
            d.take_walk_in(d.next_up())
        elif op == "makeup":
            d.give_makeup(name)
        elif op == "presence":
            d.set_presence(name, presence, "")
    again = Day.from_dict(d.to_dict())
    assert again == d


def test_to_dict_writes_every_field_of_the_day_and_its_entries():
    from dataclasses import fields as dc_fields

    from rules.queue import Day as D
    from rules.queue import Entry as E
    d = D()
    d.queue.append(E("甲"))
    out = d.to_dict()
    assert set(out) == {f.name for f in dc_fields(D) if f.compare}      # (`spent` lives for one command)
    assert set(out["queue"][0]) == {f.name for f in dc_fields(E)}


# ---- make-up order: first earned, first served (RULES §3.4) -----------------------------
def test_a_member_away_on_business_keeps_the_place_he_held_when_his_turn_passed():
    d = day_with(["甲", "乙", "丙"], 甲=AWAY_BUSINESS)
    d.take_walk_in("乙")                    # 甲's turn passes now
    d.give_makeup("丙", "非客")             # earned later
    assert order(d) == "甲 丙 乙"
    d.set_presence("甲", AVAILABLE, "回来")
    assert d.next_up() == "甲"


def test_a_reissued_makeup_keeps_its_original_place():
    d = day_with(["甲", "乙", "丙", "丁"])
    d.give_makeup("丙", "经理")             # 丙 first
    d.give_makeup("丁", "经理")             # 丁 second
    d.take_walk_in("丙")                    # 丙 uses it
    d.refund("丙", "问路")                  # the turn comes back: at its first place, ahead of 丁
    assert order(d)[:3] == "丙 丁"
    assert d.entry("丙").counted == 0 and d.entry("丙").makeup is not None


def test_a_fresh_makeup_goes_behind_every_earlier_one():
    d = day_with(["甲", "乙", "丙"])
    d.give_makeup("丙")
    d.give_makeup("乙")
    assert order(d) == "丙 乙 甲"


def test_withdrawing_a_refund_restores_the_count_and_sends_the_member_to_the_tail():
    d = day_with(["甲", "乙", "丙"])
    d.take_walk_in("甲")
    d.refund("甲", "非客")
    assert order(d) == "甲 乙 丙" and d.entry("甲").counted == 0
    d.withdraw_makeup("甲", "登记了客户", recount=True)
    assert order(d) == "乙 丙 甲" and d.entry("甲").counted == 1 and d.entry("甲").makeup is None


def test_a_skipped_member_loses_a_kept_place_too():
    d = day_with(["甲", "乙", "丙"], 甲=AWAY_BUSINESS)
    d.take_walk_in("乙")
    d.set_presence("甲", ABSENT, "测试")
    d.skip("甲", "")
    d.give_makeup("丙")
    assert order(d) == "丙 乙 甲"


def test_the_kept_place_survives_the_round_trip_through_storage():
    d = day_with(["甲", "乙"], 甲=AWAY_BUSINESS)
    d.take_walk_in("乙")
    again = Day.from_dict(d.to_dict())
    assert again.entry("甲").held == d.entry("甲").held is not None


# ---- the Day methods handlers call instead of assigning fields (issue 12) ---------------
def test_sign_ins_and_leave_before_the_opening_are_remembered_for_that_day_only():
    d = Day()
    d.expect_opening(YESTERDAY)
    d.sign_in_early("甲")
    d.expect_opening(TODAY)            # another day's early sign-ins are dropped
    d.sign_in_early("乙")
    d.leave_early("丙", "请假")
    d.expect_opening(TODAY)            # the same day: kept
    d.open(TODAY, ROSTER, carry_over=False)
    assert order(d) == "甲 乙 丁" and d.entry("乙").presence == AVAILABLE and d.entry("甲").presence == ABSENT


def test_leave_before_opening_cancels_an_early_sign_in_and_sign_in_cancels_the_leave():
    d = Day()
    d.expect_opening(TODAY)
    d.sign_in_early("甲")
    d.leave_early("甲", "请假")
    d.leave_early("甲", "请假")        # twice: listed once
    assert d.early == [] and d.early_off == ["甲"]
    d.sign_in_early("甲")
    assert d.early == ["甲"] and d.early_off == []


def test_assign_names_the_next_up_until_they_take_a_walk_in():
    d = day_with()
    assert d.assign("丙") == ["经理指派 丙 接待下一位新客户"]
    assert d.next_up() == "丙"
    d.take_walk_in("丙")
    assert d.assigned is None and d.next_up() == "甲"


def test_an_approval_lets_a_busy_member_take_one_more_and_is_used_up():
    d = day_with(甲=BUSY)
    d.approve("甲")
    assert d.next_up(approved="甲") == "甲"
    d.use_approval("甲")
    assert d.entry("甲").approved == 0 and d.next_up(approved="甲") == "乙"


def test_over_time_frees_a_busy_member_but_not_an_away_one():
    d = day_with(甲=BUSY, 乙=AWAY_PERSONAL)
    d.over_time("甲")
    d.over_time("乙")
    d.over_time("不在队列")
    assert d.entry("甲").presence == AVAILABLE and d.entry("乙").presence == AWAY_PERSONAL


def test_a_waiting_non_buyer_is_taken_once_and_only_for_its_own_reception():
    d = day_with()
    d.hold_non_buyer("甲", 7, "同行")
    assert d.take_non_buyer("甲", reception=8) is None
    assert d.take_non_buyer("甲", reception=7) == {"reception": 7, "kind": "同行"}
    assert d.take_non_buyer("甲") is None


def test_a_named_helper_is_forgotten_on_request_and_at_the_next_opening():
    d = day_with()
    d.name_helper("甲", "乙")
    d.forget_helper("甲")
    d.forget_helper("甲")              # nothing to forget: no error
    d.name_helper("丙", "丁")
    d.date = YESTERDAY
    d.open(TODAY, ROSTER, carry_over=True)
    assert d.helpers == {}


def test_drop_takes_a_member_out_of_the_queue_without_marking_them_off_or_unassigning():
    d = day_with()
    d.assign("乙")
    d.drop("乙")
    d.drop("不在队列")
    assert order(d) == "甲 丙 丁" and d.off == [] and d.assigned == "乙"


def test_the_days_facts_are_taken_from_the_table_and_forgotten_on_a_new_day():
    d = day_with()
    d.take_facts(DayFacts(counted={"乙": 2, "不在队列": 5}, open={"甲": [3]}))
    assert [(e.name, e.counted, e.receptions) for e in d.queue[:2]] == [("甲", 0, [3]), ("乙", 2, [])]
    d.approve("甲")
    d.forget_receptions()
    assert d.entry("甲").receptions == [] and d.entry("甲").approved == 0 and d.entry("乙").counted == 2


def test_the_saved_day_keeps_no_facts_and_an_old_one_with_them_still_loads():
    d = day_with()
    d.take_facts(DayFacts(counted={"甲": 1}, open={"甲": [7]}))
    saved = d.to_dict(facts=False)
    assert all("counted" not in q and "receptions" not in q for q in saved["queue"])
    assert Day.from_dict(saved).to_dict(facts=False) == saved
    old = d.to_dict()                                   # as a version before DayFacts saved it
    assert (Day.from_dict(old).entry("甲").counted, Day.from_dict(old).entry("甲").receptions) == (1, [7])


def test_opened_records_who_opened_the_day():
    d = day_with()
    d.opened("王经理")
    assert Day.from_dict(d.to_dict()).opened_by == "王经理"
