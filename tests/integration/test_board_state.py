"""The board's read model (handlers.board_view.board_state) through the bus: the phase of the day,
sign-ins before opening, 已下班 after the shift, 第二位, make-ups numbered in order, since when a
member is 外出 or 暂离, and today's totals as the reports count them (issue 19 items 4 and 7)."""
from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.board_view import board_state
from handlers.messages import Incoming
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at

P = "阳光花园"


def say(app, who: str, text: str, when: str) -> None:
    app.handle(Incoming("console", who, text, at(f"2026-11-27 {when}"), project=P))


def board(app, when: str) -> dict:
    with UnitOfWork(app.engine, readonly=True) as uow:
        project = uow.session.scalar(select(m.Project).where(m.Project.name == P))
        return board_state(uow, project, app.projects[P], at(f"2026-11-27 {when}"))


def test_before_opening_the_board_shows_who_signed_in_and_no_next_up(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "王五", "签到", "08:40")
    say(app, "李四", "签到", "08:45")
    s = board(app, "08:50")
    assert (s["phase"], s["next"], s["queue"], s["early"]) == ("before", None, [], ["李四", "王五"])


def test_after_the_shift_the_board_says_closed_and_names_no_next_up(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "张经理", "/开班 李四 王五", "09:00")
    assert board(app, "17:59")["next"] == "李四"
    s = board(app, "18:00")
    assert (s["phase"], s["next"], s["second"]) == ("after", None, None)
    assert [e["name"] for e in s["queue"]] == ["李四", "王五"]            # the day's counts stay visible


def test_second_make_ups_in_order_and_time_in_state(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "张经理", "/开班 李四 王五 赵六 钱七", "09:00")
    say(app, "王五", "外出 送合同", "09:20")
    say(app, "赵六", "暂离", "09:35")
    say(app, "张经理", "/补接 钱七", "09:40")
    say(app, "张经理", "/补接 李四", "09:41")
    s = board(app, "10:00")
    by = {e["name"]: e for e in s["queue"]}
    assert (by["钱七"]["makeup"], by["李四"]["makeup"], by["王五"]["makeup"]) == (1, 2, None)
    assert (by["王五"]["away_since"], by["赵六"]["away_since"], by["李四"]["away_since"]) == ("09:20", "09:35", None)
    assert s["next"] == "钱七" and s["second"] == "李四"
    say(app, "王五", "回来", "10:05")
    say(app, "王五", "外出 看房", "10:30")                                # out again: the new time
    assert {e["name"]: e for e in board(app, "10:40")["queue"]}["王五"]["away_since"] == "10:30"


def test_todays_totals_count_a_visitor_once(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "张经理", "/开班 李四 王五", "09:00")
    say(app, "李四", "到访 张三 13812345678", "09:10")
    say(app, "李四", "送客", "09:40")
    say(app, "王五", "到访 王芳 13900001111", "10:00")
    say(app, "王五", "成交 王芳 13900001111 1套", "10:30")
    assert board(app, "11:00")["totals"] == {"visitors": 2, "receptions": 2, "registrations": 2, "deals": 1}


def test_an_undone_return_keeps_the_first_time_away(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "张经理", "/开班 李四 王五", "09:00")
    say(app, "王五", "外出 送合同", "09:20")
    say(app, "王五", "回来", "10:05")
    say(app, "张经理", "/撤销", "10:06")                              # 王五 is 外出 again, since 09:20
    by = {e["name"]: e for e in board(app, "10:10")["queue"]}
    assert (by["王五"]["presence"], by["王五"]["away_since"]) == ("away_business", "09:20")
