"""Issue 10, end to end on the bus (SQLite): nobody jumps the queue, nobody collects two benefits."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from handlers.state_view import dump
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at, fixed

P = "阳光花园"
D = "2026-11-27"


@pytest.fixture
def make(config_file):
    def build(preset="real_estate", text=None):
        return bootstrap(config_file(preset, text), db_url="sqlite://", clock=fixed())
    return build


@pytest.fixture
def app(make):
    return make()


def say(app, sender, text, hhmm, day=D):
    return app.handle(Incoming("console", sender, text, at(f"{day} {hhmm}"), project=P))


def text(out) -> str:
    return "\n".join(o.text for o in out)


def queue(app, hhmm="17:00", day=D):
    return {q["name"]: q for q in dump(app.engine, app.projects[P], at(f"{day} {hhmm}"))["queue"]}


def order(app, hhmm="17:00", day=D):
    return [q["name"] for q in dump(app.engine, app.projects[P], at(f"{day} {hhmm}"))["queue"]]


def log_text(app) -> str:
    with UnitOfWork(app.engine) as uow:
        return "\n".join("；".join(a.reasons) for a in uow.session.scalars(select(m.Audit)))


def yesterday_customer(app, who="李四", name="王建国", phone="13812345678"):
    """`who` registers a customer the day before (so it is an old customer today)."""
    say(app, "张经理", "/开班 李四 王五 赵六 钱七", "09:00", "2026-11-26")
    for n in ["李四", "王五", "赵六", "钱七"]:
        if n == who:
            break
        say(app, n, "接待", "09:01", "2026-11-26")
    say(app, who, f"到访 {name} {phone}", "09:05", "2026-11-26")
    say(app, who, "送客", "09:30", "2026-11-26")


# ---- 1. make-ups and refunds only for a counted rotation turn ---------------------------
def test_an_out_of_turn_visit_of_a_colleagues_customer_earns_no_makeup(app):
    yesterday_customer(app, "李四")
    say(app, "张经理", "/开班 王五 赵六 钱七", "09:00")                 # 李四 is off today
    out = say(app, "钱七", "到访 王建国 13812345678", "09:10")            # third in line, out of turn
    assert "义务接待" in text(out)
    out = say(app, "钱七", "送客", "10:00")
    assert "补接" not in text(out)
    assert order(app) == ["王五", "赵六", "钱七"] and queue(app)["钱七"]["makeup"] is False
    assert "不是轮到的名次" in log_text(app)


def test_the_next_up_who_continues_an_obligation_reception_gets_the_makeup(app):
    yesterday_customer(app, "李四")
    say(app, "张经理", "/开班 王五 赵六 钱七", "09:00")
    say(app, "王五", "接待", "09:05")
    say(app, "王五", "到访 王建国 13812345678", "09:06")
    out = say(app, "王五", "送客", "10:00")
    assert "王五 获得一次补接" in text(out)
    assert order(app)[0] == "王五" and queue(app)["王五"]["counted"] == 0


def test_a_non_buyer_after_an_out_of_turn_visit_gives_the_count_back_but_no_makeup(make):
    app = make("count_all")
    yesterday_customer(app, "钱七", "刘一", "13900001111")
    say(app, "张经理", "/开班 李四 王五 赵六 钱七", "09:00")
    say(app, "钱七", "到访 刘一 13900001111", "09:10")                     # own return: counted (count_all)
    out = say(app, "钱七", "非客 装修", "09:11")
    assert "不补接" in text(out)
    assert queue(app)["钱七"] == {**queue(app)["钱七"], "counted": 0, "makeup": False}


# ---- 2. one benefit per reception ------------------------------------------------------
def test_registering_a_customer_after_a_non_buyer_withdraws_the_refund(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 同行", "09:06")
    assert queue(app)["李四"]["makeup"] is True
    out = say(app, "李四", "到访 钱多多 13600000001", "09:20")
    assert "收回" in text(out)
    q = queue(app)
    assert q["李四"]["counted"] == 1 and q["李四"]["makeup"] is False
    assert order(app) == ["王五", "赵六", "李四"]
    assert dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"][0]["owner"] == "李四"
    assert "退名次和补接收回" in log_text(app)


def test_a_same_day_split_withdraws_the_unused_obligation_makeup(app):
    yesterday_customer(app, "李四")
    say(app, "张经理", "/开班 王五 赵六 钱七", "09:00")
    say(app, "王五", "接待", "09:05")
    say(app, "王五", "到访 王建国 13812345678", "09:06")
    say(app, "王五", "送客", "11:00")
    assert queue(app)["王五"]["makeup"] is True
    say(app, "李四", "签到", "15:59")
    out = say(app, "王五", "成交 王建国 13812345678 1套", "16:00")
    assert "李四 50%" in text(out) and "王五 50%" in text(out)
    assert queue(app)["王五"]["makeup"] is False
    assert "未用的补接收回" in log_text(app)


def test_an_obligation_makeup_already_used_stands_after_the_split(app):
    yesterday_customer(app, "李四")
    say(app, "张经理", "/开班 王五 赵六 钱七", "09:00")
    say(app, "王五", "接待", "09:05")
    say(app, "王五", "到访 王建国 13812345678", "09:06")
    say(app, "王五", "送客", "11:00")
    say(app, "王五", "接待", "11:05")                                  # uses the make-up
    say(app, "王五", "到访 钱多多 13600000001", "11:06")
    say(app, "王五", "送客", "11:30")
    before = order(app)
    say(app, "王五", "成交 王建国 13812345678 1套", "16:00")
    assert order(app) == before and queue(app)["王五"]["counted"] == 1


# ---- 3. make-up order ---------------------------------------------------------------------
def test_a_member_back_from_business_is_ahead_of_a_makeup_earned_after_his_turn_passed(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "外出 送合同", "09:01")
    say(app, "王五", "接待", "09:05")                                   # 李四's turn passes
    say(app, "赵六", "接待", "09:06")
    say(app, "赵六", "非客 同行", "09:07")                              # 赵六's make-up: earned later
    say(app, "李四", "回来", "09:30")
    say(app, "王五", "送客", "09:31")
    say(app, "赵六", "送客", "09:32")
    assert order(app)[:2] == ["李四", "赵六"]
    assert "下一位:李四" in text(say(app, "张经理", "/补接 王五", "09:33"))


# ---- 4. /跳过 and /补接 -----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["接待", "外出 送合同", "请假"])
def test_skip_is_refused_for_busy_away_on_business_and_on_leave_members(app, how):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    if how == "接待":
        say(app, "王五", "签到", "09:01")
        say(app, "李四", "接待", "09:02")
    else:
        say(app, "李四", how, "09:02")
    before = order(app)
    out = say(app, "张经理", "/跳过 李四", "09:10")
    assert "不能跳过" in text(out) and order(app) == before


def test_the_skipped_member_is_told_privately_to_sign_in_when_back(app):
    say(app, "张经理", "/开班", "09:00")
    out = say(app, "张经理", "/跳过 李四 未到岗", "09:10")
    private = [o for o in out if o.to == "李四"]
    assert private and "签到" in private[0].text
    assert order(app)[-1] == "李四"


def test_a_second_makeup_for_a_member_who_holds_one_says_so(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "张经理", "/补接 赵六", "09:01")
    out = say(app, "张经理", "/补接 赵六", "09:02")
    assert "已经有一次补接" in text(out)


# ---- 5. 点名 甲 -------------------------------------------------------------------------------
def test_named_colleague_receives_the_customer_and_the_count_not_the_reporter(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    out = say(app, "李四", "到访 张三 13812345678 点名 赵六", "09:05")    # the next-up reports it
    assert "请 赵六 在 10 分钟内发 接待 确认" in text(out)
    out = say(app, "赵六", "接待", "09:06")                               # 点名 needs the named (RULES §4)
    assert "请 赵六 接待" in text(out)
    q = queue(app)
    assert q["赵六"]["counted"] == 1 and q["赵六"]["presence"] == "busy" and q["李四"]["counted"] == 0
    assert dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"][0]["owner"] == "赵六"


def test_a_colleague_who_is_not_the_next_up_cannot_report_a_named_walk_in(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    out = say(app, "王五", "到访 张三 13812345678 点名 赵六", "09:05")
    assert "现在轮到 李四" in text(out)


def test_the_next_up_who_reports_a_named_customer_gets_the_turn_back(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "到访 张三 13812345678 点名 赵六", "09:06")
    say(app, "赵六", "接待", "09:07")
    q = queue(app)
    assert q["李四"]["counted"] == 0 and q["李四"]["makeup"] is True and q["赵六"]["counted"] == 1
    assert order(app)[0] == "李四"


def test_a_named_colleague_who_is_not_here_leaves_the_walk_in_to_the_rotation(app):
    say(app, "张经理", "/开班", "09:00")
    say(app, "李四", "签到", "09:01")
    say(app, "王五", "签到", "09:01")
    out = say(app, "王五", "到访 张三 13812345678 点名 赵六", "09:05")       # 赵六 not signed in
    assert "现在轮到 李四" in text(out)
    out = say(app, "李四", "到访 张三 13812345678 点名 赵六", "09:06")
    assert queue(app)["李四"]["counted"] == 1


# ---- 6. 代接 only by the named or the default helper ----------------------------------------
def busy_owner_with_customer(app):
    """李四 owns 张三 (yesterday) and is busy today when 王五 brings 张三 in."""
    yesterday_customer(app, "李四", "张三", "13812345678")
    say(app, "张经理", "/开班 李四 王五 赵六 钱七", "09:00")
    say(app, "李四", "接待", "09:05")
    return say(app, "王五", "到访 张三 13812345678", "09:10")


def test_without_a_named_helper_only_the_last_available_member_may_help_a_busy_owner(app):
    out = busy_owner_with_customer(app)
    assert "钱七" in text(out)                                  # the default helper is named
    out = say(app, "赵六", "代接 13812345678", "09:11")
    assert "钱七" in text(out) and "让 甲 代接" in text(out)
    out = say(app, "钱七", "代接 13812345678", "09:12")
    assert "钱七 代 李四 接待" in text(out)


def test_the_owner_names_the_helper_and_nobody_else_may_help(app):
    busy_owner_with_customer(app)
    out = say(app, "李四", "让 赵六 代接", "09:11")
    assert "赵六" in text(out)
    assert "指定 赵六" in text(say(app, "钱七", "代接 13812345678", "09:12"))
    assert "赵六 代 李四 接待" in text(say(app, "赵六", "代接 13812345678", "09:13"))


def test_a_colleague_not_at_their_post_may_not_help(app):
    yesterday_customer(app, "李四", "张三", "13812345678")
    say(app, "张经理", "/开班", "09:00")
    say(app, "李四", "签到", "09:01")
    say(app, "李四", "外出 送合同", "09:02")
    out = say(app, "王五", "代接 13812345678", "09:10")            # 王五 never signed in
    assert "不在岗" in text(out)
    say(app, "王五", "签到", "09:11")
    assert "王五 代 李四 接待" in text(say(app, "王五", "代接 13812345678", "09:12"))


def test_an_available_owner_cannot_name_a_helper(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    assert "请自己接待" in text(say(app, "李四", "让 王五 代接", "09:01"))


# ---- 7. /核实 同一人 is a handover for the receiver -------------------------------------------
def pending_twin(app):
    """李四 owns 王建国 (138…); today 王五, the next-up, registers a 王建国 with another phone."""
    yesterday_customer(app, "李四", "王建国", "13812345678")
    say(app, "张经理", "/开班 王五 赵六 李四", "09:00")
    say(app, "王五", "接待", "09:05")
    out = say(app, "王五", "到访 王建国 13911112222", "09:06")
    assert "核实" in text(out) and queue(app)["王五"]["counted"] == 1


def test_verify_same_person_hands_the_customer_over_and_refunds_the_receiver(app):
    pending_twin(app)
    out = say(app, "张经理", "/核实 13911112222 同一人", "09:10")
    assert "王五 名次退回" in text(out) and "请 李四 接待" in text(out)
    q = queue(app)
    assert q["王五"]["counted"] == 0 and q["王五"]["makeup"] is True and q["王五"]["presence"] == "available"
    assert q["李四"]["presence"] == "busy"
    owners = {p: c["owner"] for c in dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"]
              for p in c["phones"]}                  # one record per person, found by either phone (RULES §5.5)
    assert owners["13911112222"] == "李四"


@pytest.mark.parametrize("preset, owner_counted", [("real_estate", 0), ("auto_dealer", 1), ("count_all", 1)])
def test_verify_same_person_counts_the_owner_as_a_handover_does(make, preset, owner_counted):
    app = make(preset)
    pending_twin(app)
    say(app, "张经理", "/核实 13911112222 同一人", "09:10")
    assert queue(app)["李四"]["counted"] == owner_counted


# ---- 8. deals: one per customer per day, relatives ---------------------------------------
def deals(app):
    return dump(app.engine, app.projects[P], at(f"{D} 17:00"))["deals"]


def test_a_second_deal_the_same_day_corrects_the_first_not_adds_to_it(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "到访 王小明 13812345678", "09:05")
    say(app, "李四", "成交 王小明 13812345678 1套", "10:00")
    out = say(app, "李四", "成交 王小明 13812345678 2套", "10:05")
    assert "已更正" in text(out)
    assert [(d["units"], d["shares"]) for d in deals(app)] == [(2, {"李四": 1.0})]
    assert "1套 → 2套" in log_text(app)


def test_a_colleagues_second_deal_is_refused_naming_the_owner(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "到访 王小明 13812345678", "09:05")
    say(app, "李四", "成交 王小明 13812345678 1套", "10:00")
    out = say(app, "王五", "成交 王小明 13812345678 1套", "10:05")
    assert "业绩归 李四" in text(out) and "申诉" in text(out)
    assert [d["units"] for d in deals(app)] == [1]


def test_a_manager_may_correct_the_days_deal(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "到访 王小明 13812345678", "09:05")
    say(app, "李四", "成交 王小明 13812345678 1套", "10:00")
    say(app, "张经理", "成交 王小明 13812345678 3套", "10:05")
    assert [d["units"] for d in deals(app)] == [3]


def test_a_relative_with_her_own_phone_is_credited_to_the_registered_customers_owner(app):
    yesterday_customer(app, "李四", "王建国", "13812345678")
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    out = say(app, "王五", "成交 李秀英 13900000000 配偶 王建国", "10:00")
    assert "业绩归 李四" in text(out)
    assert [(d["customer"], d["shares"]) for d in deals(app)] == [("王建国", {"李四": 1.0})]
    customers = dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"]
    assert [c["phone"] for c in customers] == ["13812345678"]           # 李秀英 is no new customer
    assert "13900000000" not in text(out)                               # the group never sees it


def test_a_relation_naming_nobody_registered_is_refused(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    out = say(app, "王五", "成交 李秀英 13900000000 配偶 王建国", "10:00")
    assert "登记表里没有「王建国」" in text(out) and deals(app) == []


# ---- 9. managers, the roster, /转移, 更正 ---------------------------------------------------
def test_a_config_manager_cannot_remove_or_demote_himself_and_stays_a_manager(app):
    assert "配置文件" in text(say(app, "张经理", "/成员 移除 张经理", "09:00"))
    assert "配置文件" in text(say(app, "张经理", "/成员 取消经理 张经理", "09:01"))
    assert "开班了" in text(say(app, "张经理", "/开班", "09:02"))


def test_a_config_manager_removed_in_the_database_is_a_manager_again_after_a_restart(config_file):
    url = f"sqlite:///{config_file().parent}/r.db"
    app = bootstrap(config_file(), db_url=url, clock=fixed())
    with UnitOfWork(app.engine) as uow:                      # an old database: 张经理 deactivated
        row = uow.session.scalars(select(m.Member).where(m.Member.name == "张经理")).one()
        row.active = False
        uow.commit()
    again = bootstrap(config_file(), db_url=url, clock=fixed())
    assert "开班了" in text(say(again, "张经理", "/开班", "09:00"))


def test_the_last_database_manager_stays_and_a_promoted_one_can_be_demoted(make):
    app = make(text="""
projects:
  - name: 阳光花园
    managers: []
    salespeople: [李四, 王五]
""")
    with UnitOfWork(app.engine) as uow:
        row = uow.session.scalars(select(m.Member).where(m.Member.name == "李四")).one()
        row.role = "both"
        uow.commit()
    assert "唯一的经理" in text(say(app, "李四", "/成员 取消经理 李四", "09:00"))
    assert "唯一的经理" in text(say(app, "李四", "/成员 移除 李四", "09:01"))
    say(app, "李四", "/成员 经理 王五", "09:02")
    assert "不再是本项目的经理" in text(say(app, "李四", "/成员 取消经理 王五", "09:03"))
    assert "只有经理" in text(say(app, "王五", "/开班", "09:04"))


def test_removing_a_member_says_how_many_customers_he_owns_and_transfer_moves_them(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "到访 张三 13812345678", "09:05")
    say(app, "李四", "送客", "09:10")
    say(app, "王五", "到访 刘一 13900001111", "09:15")
    say(app, "王五", "送客", "09:20")
    out = say(app, "张经理", "/成员 移除 李四", "09:30")
    assert "1 位跟踪中的客户" in text(out) and "/转移 李四 乙" in text(out)
    assert "名单里没有" in text(say(app, "李四", "跟进 13812345678 电话", "09:31"))
    out = say(app, "张经理", "/转移 李四 赵六", "09:40")
    assert "1 位" in text(out)
    told = {o.to: o.text for o in out if o.to}
    assert "赵六" in told["李四"] and "13812345678" in told["赵六"] and "138****5678" in told["李四"]
    owners = {c["phone"]: c["owner"] for c in dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"]}
    assert owners == {"13812345678": "赵六", "13900001111": "王五"}
    assert "由 李四 转给 赵六" in log_text(app)


def test_a_removed_member_is_not_split_into_a_deal(app):
    yesterday_customer(app, "李四")
    say(app, "张经理", "/开班 王五 赵六 钱七", "09:00")
    say(app, "王五", "接待", "09:05")
    say(app, "王五", "到访 王建国 13812345678", "09:06")                 # obligation for 李四
    say(app, "王五", "送客", "09:30")
    say(app, "张经理", "/成员 移除 王五", "09:40")
    say(app, "李四", "签到", "09:50")
    say(app, "李四", "成交 王建国 13812345678 1套", "10:00")
    assert [d["shares"] for d in deals(app)] == [{"李四": 1.0}]


def test_the_owner_or_a_manager_corrects_a_name_and_ownership_stays(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "到访 王建过 13812345678", "09:05")
    assert "只有归属人或经理" in text(say(app, "王五", "更正 13812345678 王建国", "09:06"))
    out = say(app, "李四", "更正 13812345678 王建国", "09:07")
    assert "王建过 → 王建国" in text(out)
    c = dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"][0]
    assert (c["name"], c["owner"]) == ("王建国", "李四")
    say(app, "张经理", "更正 13812345678 王建华", "09:08")
    assert dump(app.engine, app.projects[P], at(f"{D} 17:00"))["customers"][0]["name"] == "王建华"
    assert "王建过 → 王建国" in log_text(app)


# ---- 11. the seed 十三 non-buyer window ---------------------------------------------------
def test_a_non_buyer_found_out_late_while_the_visitor_is_still_here_is_accepted_at_once(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    out = say(app, "李四", "非客 同行", "09:25")                      # 20 minutes, still open
    assert "名次已退回" in text(out)
    assert queue(app)["李四"]["counted"] == 0 and queue(app)["李四"]["makeup"] is True


def test_a_non_buyer_after_the_visitor_left_needs_the_manager(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "送客", "09:20")
    out = say(app, "李四", "非客 同行", "09:25")
    assert "/批准 李四" in text(out) and queue(app)["李四"]["counted"] == 1
    say(app, "张经理", "/批准 李四", "09:30")
    assert queue(app)["李四"]["counted"] == 0 and queue(app)["李四"]["makeup"] is True


def test_a_non_buyer_reported_after_see_off_but_in_the_window_needs_no_manager(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "送客", "09:06")
    say(app, "李四", "非客 推销", "09:07")
    assert queue(app)["李四"]["counted"] == 0


def test_count_all_hands_a_declared_non_buyer_to_the_last_member_uncounted(make):
    app = make("count_all")
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")
    before = order(app)
    out = say(app, "张经理", "/指派 末位", "09:07")
    assert "末位 赵六" in text(out)
    q = queue(app)
    assert order(app) == before and q["赵六"]["counted"] == 0 and q["赵六"]["presence"] == "busy"
    assert q["李四"]["presence"] == "available" and q["李四"]["makeup"] is True


def test_handing_a_non_buyer_to_the_last_member_is_only_in_count_all(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")
    assert "count_all" in text(say(app, "张经理", "/指派 末位", "09:07"))
