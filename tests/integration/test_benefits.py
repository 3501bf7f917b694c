"""RULES §9a through `App.handle`: every benefit is a row, the managers hear of it, the 日报 lists it
with each 外出/暂离, and /驳回 withdraws the latest one, undoably (issue 17 item 4, "What to build" 2)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.state_view import dump
from storage import models as m
from storage.uow import UnitOfWork
from tests.bus import opened, say
from tests.conftest import at

CONFIG = """
timezone: Asia/Shanghai
policy: {preset: real_estate%s}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [张经理, 刘经理]
    salespeople: [李四, 王五, 赵六, 钱七]
"""


@pytest.fixture
def app(db_url, config_file):
    """On SQLite and on PostgreSQL (PostgreSQL checks the column widths SQLite lets pass)."""
    return opened(db_url, config_file)


def queue(app, when="23:00"):
    st = dump(app.engine, app.projects["阳光花园"], at(f"2026-11-27 {when}"))
    return [(e["name"], e["presence"], e["counted"], e["makeup"]) for e in st["queue"]]


def rows(app) -> list[tuple]:
    with UnitOfWork(app.engine, readonly=True) as uow:
        found = uow.session.query(m.BenefitRow).order_by(m.BenefitRow.id)
        return [(b.member, b.kind, b.reason, b.withdrawn_by) for b in found]


def to(out, who):
    return [o.text for o in out if o.to == who]


def test_a_refund_is_a_row_and_the_managers_hear_of_it_at_once(app):
    say(app, "李四", "接待", "09:05")
    out = say(app, "李四", "非客 推销", "09:06")
    assert rows(app) == [("李四", "refund", "非客：推销", None)]
    assert to(out, "张经理") == ["优待：09:06 李四 退名次（非客：推销）。不同意请 /驳回 李四 原因"]


def test_going_out_needs_a_reason_and_the_kept_place_is_a_benefit(app):
    out = say(app, "王五", "外出", "09:05")
    assert out[0].text.startswith("外出 要写原因") and rows(app) == []
    out = say(app, "李四", "外出 送合同", "09:06")
    assert rows(app) == [("李四", "kept_place", "送合同", None)]
    assert to(out, "张经理") == ["优待：09:06 李四 外出保留位置（送合同）。不同意请 /驳回 李四 原因"]


def test_withdrawing_a_kept_place_sends_the_member_to_the_tail_and_tells_them(app):
    say(app, "李四", "外出 送合同", "09:06")
    say(app, "李四", "回来", "09:09")                               # still first: the loophole of item 4
    assert queue(app, "09:10")[0][0] == "李四"
    out = say(app, "张经理", "/驳回 李四 三分钟不算外出", "09:10")
    assert out[0].text.startswith("已驳回 李四 09:06 的外出保留位置（送合同）（三分钟不算外出）。")
    assert "下一位:王五" in out[0].text
    assert to(out, "李四") == ["李四，经理 张经理 驳回了你 09:06 的外出保留位置（送合同）（三分钟不算外出）。"]
    assert [n for n, *_ in queue(app, "09:11")] == ["王五", "赵六", "李四"]
    assert rows(app)[0][3] == "张经理"


def test_withdrawing_a_refund_gives_the_count_back_and_takes_the_makeup(app):
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")
    assert queue(app, "09:07")[0] == ("李四", "busy", 0, True)
    say(app, "李四", "送客", "09:08")
    say(app, "张经理", "/驳回 李四", "09:10")
    assert queue(app, "09:11") == [("王五", "available", 0, False), ("赵六", "available", 0, False),
                                   ("李四", "available", 1, False)]
    daily = say(app, "张经理", "/日报", "09:12")[0].text
    assert "李四 计1/不计0" in daily and "〔已驳回〕" in daily


def test_an_uncounted_new_walk_in_brought_by_a_customer_is_a_benefit_made_counted_by_withdrawal(app):
    say(app, "李四", "到访 钱多多 13812345678", "09:05")
    say(app, "李四", "送客", "09:20")
    say(app, "李四", "到访 钱小宝 13911112222 带访 13812345678", "09:30")   # brought by my customer: uncounted
    assert rows(app) == [("李四", "uncounted", "未成交老客户带新客户", None)]
    assert ("李四", "busy", 1, False) in queue(app, "09:31")
    say(app, "张经理", "/驳回 李四 新客户要计名次", "09:40")
    assert ("李四", "busy", 2, False) in queue(app, "09:41")
    daily = say(app, "张经理", "/日报", "09:42")[0].text
    assert "李四 计2/不计0" in daily


def test_tagging_my_turn_as_brought_refunds_it_and_the_manager_sees_it(app):
    say(app, "李四", "到访 钱多多 13812345678", "09:05")
    say(app, "李四", "送客", "09:20")
    say(app, "王五", "接待", "09:30")
    say(app, "王五", "送客", "09:35")
    say(app, "赵六", "接待", "09:40")
    say(app, "赵六", "送客", "09:45")
    say(app, "李四", "接待", "09:50")                                 # 李四's turn again
    out = say(app, "李四", "到访 钱小宝 13911112222 带访 13812345678", "09:51")
    assert [t for t in to(out, "张经理") if "退名次" in t]
    assert rows(app)[-1][:2] == ("李四", "refund")


def test_withdraw_walks_back_and_undo_puts_the_benefit_back(app):
    say(app, "李四", "外出 送合同", "09:06")
    say(app, "李四", "回来", "09:09")
    say(app, "李四", "接待", "09:10")
    say(app, "李四", "非客 推销", "09:11")
    before = queue(app, "09:12")
    first = say(app, "张经理", "/驳回 李四", "09:12")[0].text
    assert "退名次" in first
    second = say(app, "张经理", "/驳回 李四", "09:13")[0].text
    assert "外出保留位置" in second
    assert say(app, "张经理", "/驳回 李四", "09:14")[0].text == "李四 今天没有可驳回的优待。"
    say(app, "张经理", "/撤销", "09:15")
    say(app, "张经理", "/撤销", "09:16")
    assert queue(app, "09:17") == before
    assert [w for *_, w in rows(app)] == [None, None]


def test_only_managers_withdraw_and_an_unknown_name_changes_nothing(app):
    say(app, "李四", "外出 送合同", "09:06")
    assert "经理" in say(app, "王五", "/驳回 李四", "09:07")[0].text
    assert "名单" in say(app, "张经理", "/驳回 路人甲", "09:08")[0].text or \
        "路人甲" in say(app, "张经理", "/驳回 路人甲", "09:08")[0].text
    assert rows(app)[0][3] is None


@pytest.mark.parametrize("notice, told", [("daily", []), ("off", [])])
def test_benefit_notice_daily_or_off_tells_nobody_at_once(tmp_path, config_file, notice, told):
    cfg = config_file("real_estate", CONFIG % f", benefit_notice: {notice}")
    app = opened(f"sqlite:///{tmp_path}/n.db", lambda *a: cfg)
    say(app, "李四", "接待", "09:05")
    out = say(app, "李四", "非客 推销", "09:06")
    assert to(out, "张经理") == told and to(out, "刘经理") == told
    assert rows(app) == [("李四", "refund", "非客：推销", None)]


def test_the_daily_summary_lists_benefits_and_absences_with_reasons_and_minutes(app):
    say(app, "李四", "外出 送合同", "09:06")
    say(app, "李四", "回来了", "09:36")
    say(app, "王五", "暂离一下", "10:00")
    daily = say(app, "张经理", "/日报", "10:20")[0].text
    assert "优待：李四 09:06 外出保留位置（送合同）" in daily
    assert "外出/暂离：李四 外出（公事） 09:06–09:36（30 分钟，送合同）、王五 暂离 10:00–未回（20 分钟）" in daily


def test_an_old_customer_received_by_the_next_up_is_a_benefit_and_not_when_someone_else_is_next(tmp_path, config_file):
    from bot.bootstrap import bootstrap
    from handlers.messages import Incoming
    from tests.conftest import fixed
    app = bootstrap(config_file(), db_url=f"sqlite:///{tmp_path}/o.db", clock=fixed())

    def on(who, text, when):
        return app.handle(Incoming("console", who, text, at(when), project="阳光花园"))
    on("张经理", "/开班 李四 王五 赵六", "2026-11-26 09:00")
    on("李四", "到访 顾一 13812345678", "2026-11-26 10:00")
    on("王五", "到访 刘二 13900001111", "2026-11-26 10:05")
    on("李四", "送客", "2026-11-26 10:30")
    on("王五", "送客", "2026-11-26 10:30")
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    out = say(app, "王五", "到访 刘二 13900001111", "09:05")          # 王五 is not the next-up: no benefit
    assert rows(app) == [] and not to(out, "张经理")
    out = say(app, "李四", "到访 顾一 13812345678", "09:10")          # the next-up's old customer: uncounted
    assert rows(app) == [("李四", "uncounted", "未成交老客户回访", None)]
    assert to(out, "张经理") == ["优待：09:10 李四 接待不计名次（未成交老客户回访）。不同意请 /驳回 李四 原因"]
    say(app, "张经理", "/驳回 李四 轮到你了就算一次", "09:20")
    assert queue(app, "09:21")[-1] == ("李四", "busy", 1, False)


def test_a_withdrawn_makeup_is_not_counted_as_earned_in_the_report(app):
    from handlers import reports
    from tests.conftest import TZ
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")
    with UnitOfWork(app.engine, readonly=True) as uow:
        pid = uow.session.scalar(select(m.Project.id))
        before = {r.name: r.makeups_earned for r in reports.build(
            uow.report_figures, pid, "阳光花园", TZ, (at("2026-11-27 00:00").date(),) * 2, at("2026-11-27 23:00")).rows}
    say(app, "张经理", "/驳回 李四", "09:10")
    with UnitOfWork(app.engine, readonly=True) as uow:
        after = {r.name: r.makeups_earned for r in reports.build(
            uow.report_figures, pid, "阳光花园", TZ, (at("2026-11-27 00:00").date(),) * 2, at("2026-11-27 23:00")).rows}
    assert before["李四"] == 1 and after["李四"] == 0
