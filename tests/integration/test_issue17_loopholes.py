"""Issue 17 items 1–8 through `App.handle` on a SQLite file: the ways a competitive salesperson
collected a turn or a customer for free, and the fairness that reset every evening."""
from __future__ import annotations

import pytest

from handlers.state_view import dump
from tests.bus import opened, say
from tests.conftest import at


@pytest.fixture
def app(tmp_path, config_file):
    return opened(f"sqlite:///{tmp_path}/r.db", config_file)


def group(out) -> str:
    return out[0].text


def told(out, to: str) -> list[str]:
    return [o.text for o in out[1:] if o.to == to]


def state(app, when: str = "23:00") -> dict:
    return dump(app.engine, app.projects["阳光花园"], at(f"2026-11-27 {when}"))


def queue(app, when: str = "23:00") -> list[tuple[str, int]]:
    return [(e["name"], e["counted"]) for e in state(app, when)["queue"]]


# ---- item 1: 非客 after a registration --------------------------------------------------
def test_a_non_buyer_report_after_registering_is_refused_and_changes_nothing(app):
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "到访 顾一 13812345678", "09:06")
    before = queue(app)
    out = say(app, "李四", "非客 推销", "09:07")
    assert "已登记客户 顾一" in group(out) and "/撤销" in group(out)
    assert queue(app) == before


def test_a_late_non_buyer_report_after_a_registration_is_refused_too(app):
    say(app, "李四", "到访 顾一 13812345678", "09:05")
    say(app, "李四", "送客", "09:30")
    out = say(app, "李四", "非客 推销", "09:40")
    assert "不能再报非客" in group(out)
    assert told(out, "张经理") == []
    assert "没有" in group(say(app, "张经理", "/批准 李四", "09:41"))


def test_a_late_non_buyer_request_names_the_reception_for_the_managers(app):
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "送客", "09:30")
    out = say(app, "李四", "非客 推销", "09:40")
    assert "/批准 李四" in group(out)
    assert told(out, "张经理") == ["非客待确认：李四 09:05–09:30 的接待（未登记客户）送客后报非客（推销）。"
                                  "确认退名次并补接请 /批准 李四；不同意则无需处理。"]


# ---- item 7: the visitor was already inside a colleague's reception -----------------------
def test_an_empty_turn_whose_visitor_a_colleague_already_receives_is_refunded(app):
    say(app, "李四", "到访 顾一 13812345678", "09:05")              # 李四 receives 顾一
    say(app, "王五", "接待", "09:10")                               # 王五's turn: the same visitor
    out = say(app, "王五", "到访 顾一 13812345678", "09:11")
    assert group(out).startswith("顾一（138****5678）正在由李四接待中。\n王五 名次退回，获得补接。")
    st = state(app, "09:12")
    assert [(e["name"], e["presence"], e["counted"], e["makeup"]) for e in st["queue"]][:2] == [
        ("王五", "available", 0, True), ("赵六", "available", 0, False)]
    assert st["next"] == "王五"


def test_a_visitor_being_received_with_no_empty_turn_of_mine_changes_nothing(app):
    say(app, "李四", "到访 顾一 13812345678", "09:05")
    before = state(app, "09:12")
    out = say(app, "王五", "到访 顾一 13812345678", "09:11")
    assert group(out) == "顾一（138****5678）正在由李四接待中。"
    assert state(app, "09:12") == before


# ---- item 6: the owner back from 暂离 takes their customer back --------------------------------
def on(app, who: str, text: str, when: str) -> list:
    """`who` says `text` at `when` (a full date-time): for the days before the bus's 11-27."""
    from handlers.messages import Incoming
    return app.handle(Incoming("console", who, text, at(when), project="阳光花园"))


@pytest.fixture
def owned(tmp_path, config_file):
    """顾一 (13812345678) registered by 李四 on 11-26; 11-27 opened with 李四 王五 赵六."""
    from bot.bootstrap import bootstrap
    from tests.conftest import fixed

    def make(preset="real_estate"):
        app = bootstrap(config_file(preset), db_url=f"sqlite:///{tmp_path}/{preset}.db", clock=fixed())
        on(app, "张经理", "/开班 李四 王五 赵六", "2026-11-26 09:00")
        on(app, "李四", "到访 顾一 13812345678", "2026-11-26 10:00")
        on(app, "李四", "送客", "2026-11-26 10:30")
        say(app, "张经理", "/开班 王五 赵六 李四", "09:00")
        return app
    return make


def test_the_owner_back_from_a_short_absence_takes_the_customer_back(owned):
    app = owned()
    say(app, "李四", "暂离", "09:30")
    say(app, "王五", "接待", "10:00")
    assert "义务接待" in group(say(app, "王五", "到访 顾一 13812345678", "10:01"))
    say(app, "李四", "回来了", "10:05")
    out = say(app, "李四", "接手 13812345678", "10:06")
    assert group(out).startswith("李四 接手自己的客户 顾一（138****5678）（不计名次），王五 的接待结束，不分半。\n"
                                 "王五 获得一次补接")
    st = state(app, "10:07")
    assert [(e["name"], e["presence"], e["counted"], e["makeup"]) for e in st["queue"]] == [
        ("王五", "available", 0, True), ("赵六", "available", 0, False), ("李四", "busy", 0, False)]
    deal = say(app, "李四", "成交 顾一 13812345678 1套", "10:30")
    assert "分半" not in group(deal)
    assert state(app, "10:31")["deals"][0]["shares"] == {"李四": 1.0}


def test_the_owner_may_take_over_by_typing_the_visit_with_the_phone_only(owned):
    app = owned()
    say(app, "李四", "暂离", "09:30")
    say(app, "王五", "接待", "10:00")
    say(app, "王五", "到访 顾一 13812345678", "10:01")
    say(app, "李四", "回来", "10:05")
    assert group(say(app, "李四", "到访 138****5678", "10:06")).startswith("李四 接手自己的客户 顾一")


def test_only_the_owner_takes_over_and_only_when_back(owned):
    app = owned()
    say(app, "李四", "暂离", "09:30")
    say(app, "王五", "接待", "10:00")
    say(app, "王五", "到访 顾一 13812345678", "10:01")
    before = state(app, "10:02")
    assert group(say(app, "赵六", "接手 13812345678", "10:02")) == "顾一 归 李四，正由王五接待；只有归属人可以接手。"
    assert group(say(app, "李四", "接手 13812345678", "10:02")) == "李四 请先发 回来 或 签到，再接手客户。"
    assert state(app, "10:02") == before


def test_taking_over_a_customer_nobody_receives_is_refused_but_a_phone_only_visit_is_a_visit(owned):
    app = owned()
    out = say(app, "李四", "接手 13812345678", "10:02")
    assert group(out) == "顾一（138****5678）现在没有同事在接待，无需接手；客户来了请发：到访 138****5678"
    assert "老客户回访" in group(say(app, "李四", "到访 13812345678", "10:03"))


# ---- item 8: auto_dealer counts the owner once for one customer on one day ---------------------
def test_the_owner_is_counted_once_for_a_customer_handed_on_and_then_helped(owned):
    app = owned("auto_dealer")
    say(app, "王五", "到访 刘二 13900001111", "09:10")          # 李四 and 王五 busy
    say(app, "赵六", "接待", "09:19")
    assert "请 李四 接待（计名次）" in group(say(app, "赵六", "到访 顾一 13812345678", "09:20"))
    say(app, "李四", "让 王五 代接", "09:22")
    say(app, "王五", "送客", "09:23")
    say(app, "王五", "代接 13812345678", "09:24")
    out = say(app, "王五", "送客", "09:50")
    assert "计 李四" not in group(out)
    counts = dict(queue(app, "09:51"))
    assert counts == {"王五": 1, "赵六": 0, "李四": 1}
    daily = group(say(app, "张经理", "/日报", "09:52"))
    assert "王五 计1/不计1" in daily and "李四 计1/不计0" in daily and "赵六 计0/不计1" in daily


def test_the_daily_summary_credits_a_helpers_reception_to_the_owner_it_counted_for(owned):
    app = owned("auto_dealer")
    say(app, "李四", "暂离", "09:05")
    say(app, "李四", "让 王五 代接", "09:06")
    say(app, "王五", "代接 13812345678", "09:10")
    assert "代接未成交：计 李四 一个名次" in group(say(app, "王五", "送客", "09:40"))
    assert dict(queue(app, "09:41"))["李四"] == 1
    daily = group(say(app, "张经理", "/日报", "09:42"))
    assert "李四 计1/不计0" in daily and "王五 计0/不计1" in daily


# ---- item 5: carry-over fairness survives the evening's 签退 -------------------------------------
def test_the_next_day_continues_the_cycle_after_everyone_signed_out(app):
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "送客", "09:30")
    say(app, "王五", "接待", "10:00")
    say(app, "王五", "非客 推销", "10:01")                 # refunded: 王五 holds a make-up
    say(app, "王五", "送客", "10:20")
    assert [n for n, _ in queue(app, "10:21")] == ["王五", "赵六", "李四"]
    for who in ("赵六", "李四", "王五"):
        say(app, who, "签退", "18:05")
    on(app, "张经理", "/开班", "2026-11-28 08:55")
    st = dump(app.engine, app.projects["阳光花园"], at("2026-11-28 08:56"))
    assert [(e["name"], e["makeup"]) for e in st["queue"]] == [
        ("王五", True), ("赵六", False), ("李四", False), ("钱七", False)]      # 钱七 was not in 11-27's queue


# ---- item 2: 成交 is no back door ------------------------------------------------------------------
def test_a_deal_for_a_visitor_you_did_not_receive_is_refused_and_registers_nobody(app):
    say(app, "李四", "到访 刘二 13900001111", "09:05")               # 王五 is next-up now
    assert "现在轮到 王五" in group(say(app, "赵六", "接待", "09:10"))
    out = say(app, "赵六", "成交 顾一 13812345678", "09:11")
    assert group(out).startswith("赵六 今天没有接待过这位客人，不能直接报成交登记 顾一。")
    assert [c["name"] for c in state(app, "09:12")["customers"]] == ["刘二"]
    assert state(app, "09:12")["deals"] == []


def test_a_deal_fills_in_the_walk_in_you_received_without_details(app):
    say(app, "李四", "接待", "09:05")
    out = say(app, "李四", "成交 顾一 13812345678 2套", "09:40")
    assert "已登记 顾一 归 李四" in group(out)
    assert state(app, "09:41")["deals"][0]["shares"] == {"李四": 1.0}
    again = say(app, "李四", "成交 吴三 13700001111", "09:50")          # that reception is used now
    assert "不能直接报成交登记" in group(again)


def test_a_deal_on_a_non_buyer_reception_takes_the_refund_back(app):
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")                            # refunded with a make-up
    out = say(app, "李四", "成交 顾一 13812345678", "09:30")
    assert "收回" in group(out)
    assert ("李四", 1) in queue(app, "09:31")


def test_one_purchase_by_a_relative_is_one_deal_with_one_owner(app):
    say(app, "李四", "到访 钱多多 13812345678", "09:05")
    say(app, "李四", "成交 李芳 13911112222 配偶 钱多多", "09:30")
    out = say(app, "王五", "成交 李芳 13911112222", "09:40")
    assert "李四" in group(out) and "申诉" in group(out)
    assert [(d["customer"], d["shares"]) for d in state(app, "09:41")["deals"]] == [("钱多多", {"李四": 1.0})]
    later = on(app, "王五", "成交 李芳 13911112222", "2026-11-28 10:00")
    assert any(o.text.startswith("购房人 李芳 已登记为客户 钱多多 的家属，业绩归 李四") for o in later)


@pytest.mark.parametrize("word, relation", [("儿子", "子女"), ("女儿", "子女"), ("爱人", "配偶"), ("妈妈", "父母")])
def test_every_direct_relation_word_links_the_buyer(app, word, relation):
    say(app, "李四", "到访 钱多多 13812345678", "09:05")
    out = say(app, "王五", f"成交 钱小宝 13911112222 {word} 钱多多", "09:30")
    assert f"是登记客户 钱多多 的{relation}，业绩归 李四" in group(out)
    assert [c["name"] for c in state(app, "09:31")["customers"]] == ["钱多多"]


@pytest.mark.parametrize("word", ["兄弟", "朋友", "表姐", "同事"])
def test_other_relations_are_understood_and_refused_with_the_appeal_route(app, word):
    say(app, "李四", "到访 钱多多 13812345678", "09:05")
    say(app, "王五", "接待", "09:10")
    out = say(app, "王五", f"成交 钱二 13911112222 {word} 钱多多", "09:30")
    assert group(out).startswith(f"{word}不是直系亲属") and "申诉 138****5678" in group(out)
    assert [c["name"] for c in state(app, "09:31")["customers"]] == ["钱多多"]
    assert state(app, "09:31")["deals"] == []


# ---- item 3: 点名 needs the named ----------------------------------------------------------------------
def named_walk_in(app):
    say(app, "李四", "接待", "09:05")
    out = say(app, "李四", "到访 顾一 13812345678 点名 王五", "09:06")
    assert group(out).startswith("李四 报：顾一（138****5678）点名找 王五。请 王五 在 10 分钟内发 接待 确认")
    assert "王五" in out[0].mentions
    return out


def owner_of(app, when) -> str | None:
    return {c["name"]: c["owner"] for c in state(app, when)["customers"]}.get("顾一")


def test_a_named_visitor_is_not_handed_on_before_the_named_confirms(app):
    named_walk_in(app)
    assert queue(app, "09:07") == [("王五", 0), ("赵六", 0), ("李四", 1)]
    assert owner_of(app, "09:07") is None
    st = state(app, "09:07")
    assert [e["makeup"] for e in st["queue"]] == [False, False, False]


def test_the_named_confirms_with_receive_and_the_reporter_gets_the_turn_back(app):
    named_walk_in(app)
    out = say(app, "王五", "接待", "09:08")
    assert group(out).startswith("王五 确认接待点名客人 顾一，李四 的接待转交 王五。")
    st = state(app, "09:09")
    assert [(e["name"], e["presence"], e["counted"], e["makeup"]) for e in st["queue"]] == [
        ("李四", "available", 0, True), ("赵六", "available", 0, False), ("王五", "busy", 1, False)]
    assert owner_of(app, "09:09") == "王五"


def test_the_named_may_confirm_by_reporting_the_same_visit(app):
    named_walk_in(app)
    assert group(say(app, "王五", "到访 顾一 13812345678", "09:08")).startswith("王五 确认接待点名客人 顾一")
    assert owner_of(app, "09:09") == "王五"


def test_the_named_declines_and_the_reporter_keeps_visitor_and_turn(app):
    named_walk_in(app)
    out = say(app, "王五", "不接", "09:08")
    assert group(out).startswith("顾一（138****5678）由 李四 继续接待并登记，计 李四 的名次：王五 不接。")
    assert queue(app, "09:09") == [("王五", 0), ("赵六", 0), ("李四", 1)]
    assert owner_of(app, "09:09") == "李四"
    assert group(say(app, "王五", "不接", "09:10")) == "王五，现在没有点名你的客人等你确认。"


def test_no_answer_in_time_leaves_the_visitor_with_the_reporter_who_is_told_why(app):
    named_walk_in(app)
    assert app.run_due(at("2026-11-27 09:15"), "阳光花园") == []
    out = app.run_due(at("2026-11-27 09:16"), "阳光花园")
    assert [o.text for o in out] == ["顾一（138****5678）由 李四 继续接待并登记，计 李四 的名次：王五 10 分钟内没有确认。\n"
                                     "登记有效，归属 李四，有效期至 12-04。"]
    assert owner_of(app, "09:17") == "李四"
    assert queue(app, "09:17") == [("王五", 0), ("赵六", 0), ("李四", 1)]
    assert "接待" in group(say(app, "王五", "接待", "09:18")) and owner_of(app, "09:19") == "李四"


def test_undo_takes_a_confirmation_back(app):
    named_walk_in(app)
    before = state(app, "09:07")
    say(app, "王五", "接待", "09:08")
    assert say(app, "张经理", "/撤销", "09:09")[0].text.startswith("已撤销")
    assert state(app, "09:07") == before


def test_a_confirmation_after_the_reporter_saw_the_visitor_off_still_hands_the_turn_back(app):
    named_walk_in(app)
    say(app, "李四", "送客", "09:07")
    say(app, "王五", "接待", "09:08")
    st = state(app, "09:09")
    assert [(e["name"], e["counted"], e["makeup"]) for e in st["queue"]] == [
        ("李四", 0, True), ("赵六", 0, False), ("王五", 1, False)]
    assert owner_of(app, "09:09") == "王五"


def test_a_named_colleague_cannot_be_asked_twice_at_once_and_the_reporter_must_have_the_turn(app):
    named_walk_in(app)
    out = say(app, "赵六", "到访 顾二 13812340000 点名 王五", "09:07")
    assert group(out) == "王五 还有一位点名客人等待确认；请 王五 先发 接待 或 不接。"
    assert owner_of(app, "09:08") is None


def test_naming_a_colleague_does_not_skip_the_rotation(app):
    before = state(app, "09:06")
    out = say(app, "赵六", "到访 顾一 13812345678 点名 王五", "09:05")
    assert "现在轮到 李四" in group(out)
    assert state(app, "09:06") == before
