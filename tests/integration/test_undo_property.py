"""RULES §9: /撤销 undoes every kind of command exactly. Random days of salesperson and manager
commands (valid and invalid), then /撤销 until nothing is left: the day is as the opening left it."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from bot.adapters.xlsx import write_workbook
from bot.app import App
from bot.bootstrap import TYPED_NAMES
from bot.config import Config, project_settings
from bot.config_sync import sync
from handlers.messages import Incoming
from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import UnitOfWork, Units
from tests.conftest import at, fixed
from tests.integration.test_invariants import MEMBERS, NAMES, PHONES, SAME, UP, WAIT, drive

SENDERS = MEMBERS + ["孙八", "张经理"]               # 孙八: not on the roster until /成员 添加 孙八
WHO = st.sampled_from(MEMBERS + ["孙八", "刘一"])    # also names that are not members, or customers
PHONE = st.sampled_from(PHONES * 4 + ["1380000", "138****0001", "0001"])  # invalid and masked forms too
NAME = st.sampled_from(NAMES)
REST = st.sampled_from(["", " 点名", " 看三居", " 带访 13800000001", " 带访 13900000004", " 带访 123"])
TEXT = st.sampled_from(["", " 电话沟通", " 看三居", " 是我先接待的"])


def _fmt(fmt: str, *parts):
    return st.tuples(*parts).map(lambda p: fmt.format(*p))


SALES_TEXT = st.one_of(
    st.sampled_from(["签到", "签到。", "已签到", "签退", "请假", "暂离", "暂离 吃饭", "外出 看房", "回来", "接待",
                     "来客", "送客", "非客 装修", "非客 问路", "非客 其他", "非客", "我的客户", "轮排", "帮助",
                     "到访", "成交", "跟进", "代接"]),
    _fmt("到访 {} {}{}", NAME, PHONE, REST),
    _fmt("代接 {}", PHONE),
    _fmt("送客 {}", st.one_of(NAME, PHONE)),
    _fmt("跟进 {}{}", st.one_of(NAME, PHONE), TEXT),
    _fmt("成交 {} {} {}{}", NAME, PHONE, st.sampled_from(["1套", "2套", "0套", "三套", ""]),
         st.sampled_from(["", " 父母", " 配偶"])),
    _fmt("申诉 {}{}", PHONE, TEXT),
    _fmt("查客 {}", st.one_of(NAME, PHONE)),
)
MANAGER_TEXT = st.one_of(
    st.sampled_from(["/撤销", "/撤销", "/撤销", "/开班", "/记录", "/日报", "/导出", "/导出 2026-11-01 2026-11-30",
                     "/导出 2026-13-01", "/顺序 钱七 赵六 王五 李四", "/顺序 李四", "/成员 添加 孙八",
                     "/成员 经理 王五", "/成员 移除 钱七", "/成员 移除 孙八", "/成员 添加 李四"]),
    _fmt("/开班 {} {} {}", WHO, WHO, WHO),
    _fmt("/{} {}", st.sampled_from(["补接", "跳过", "指派", "批准"]), WHO),
    _fmt("/跳过 {} 没打招呼", WHO),
    _fmt("/核实 {} {}", PHONE, st.sampled_from(["同一人", "不同人", "也许"])),
    _fmt("/裁定 {} 归 {}", PHONE, WHO),
    _fmt("/裁定 {} 归 {} {}", PHONE, WHO, WHO),
    _fmt("/释放 {}", PHONE),
)
ONE = st.one_of(
    st.tuples(st.sampled_from(SENDERS), SALES_TEXT),
    st.tuples(st.just(SAME), SALES_TEXT),                        # the one who just spoke goes on
    st.tuples(st.just("张经理"), MANAGER_TEXT),
    st.tuples(st.just("张经理"), MANAGER_TEXT),
    st.tuples(st.sampled_from(MEMBERS), MANAGER_TEXT),          # refused: not a manager
    st.just(WAIT),
).map(lambda step: [step])
# the everyday walk-in: whoever's turn it is receives, registers the visit, then deals with that customer
AFTER = ["送客", "送客", "跟进 {1} 电话沟通", "成交 {0} {1} 2套", "成交 {0} {1} 1套 父母", "申诉 {1} 是我先接待的",
         "查客 {1}", "非客 装修"]
WALK_IN = st.tuples(NAME, PHONE, REST, st.lists(st.sampled_from(AFTER), max_size=3),
                    st.lists(st.tuples(st.sampled_from(SENDERS), st.sampled_from(AFTER)), max_size=1)).map(
    lambda v: [(UP, "接待"), (SAME, f"到访 {v[0]} {v[1]}{v[2]}")] + [(SAME, a.format(*v)) for a in v[3]]
    + [(who, a.format(*v)) for who, a in v[4]])
DAY = st.lists(st.one_of(ONE, ONE, WALK_IN), min_size=6, max_size=20).map(
    lambda groups: [step for g in groups for step in g]).filter(
    lambda steps: steps.count(WAIT) <= 6)        # at most 3 hours of waiting: the day stays inside the shift
_PROJECTS = itertools.count()


def snapshot(engine, project: str) -> dict:
    """Every column of every row the day can touch, plus the queue: exactness down to the ids."""
    with UnitOfWork(engine, readonly=True) as uow:
        s = uow.session
        p = s.scalars(select(m.Project).where(m.Project.name == project)).one()
        out: dict = {"queue": p.state}
        for model in (m.Member, m.Customer, m.Reception, m.Deal):
            out[model.__tablename__] = [_row(r) for r in s.scalars(
                select(model).where(model.project_id == p.id).order_by(model.id))]
        out["appeals"] = [_row(r) for r in s.scalars(select(m.Appeal).join(m.Deal).where(
            m.Deal.project_id == p.id).order_by(m.Appeal.id))]
        return out


def _row(obj) -> dict:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


def undoable_left(engine, project: str) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return len(uow.session.scalars(select(m.Audit.id).join(m.Project).where(
            m.Project.name == project, m.Audit.kind == "cmd", m.Audit.undone_by.is_(None))).all())


def reply(out) -> str:
    """The answer to the command (scheduled messages that fell due first carry their own time)."""
    return next(o.text for o in out if o.at is None)


@pytest.fixture
def engine(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                  # /导出 writes its workbook here
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


def new_app(engine) -> tuple[App, str]:
    """A fresh project in the shared database for each example (its own members, register, log)."""
    name = f"花园{next(_PROJECTS)}"
    cfg = Config.model_validate({"projects": [{"name": name, "managers": ["张经理"], "salespeople": MEMBERS}]})
    app = App(Units(engine), project_settings(cfg), fixed("2026-11-27 08:00"), write_workbook=write_workbook,
              typed_names=TYPED_NAMES)
    sync(app.uows, app.projects, app.clock.now())
    return app, name


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(steps=DAY)
def test_undo_back_to_the_opening_restores_the_day_exactly(engine, steps):
    app, project = new_app(engine)
    opened, t = None, None
    for now, out in drive(app, steps, project=project):
        opened = opened or snapshot(engine, project)            # right after the scheduler's opening
        assert not any("抱歉" in o.text for o in out), out     # never the internal-error apology
        t = now
    for _ in range(len(steps) + 2):                          # /撤销 back to the day's start
        if not undoable_left(engine, project):
            break
        t += timedelta(minutes=1)
        out = reply(app.handle(Incoming("console", "张经理", "/撤销", t, project=project)))
        assert out.startswith("已撤销"), out
    assert undoable_left(engine, project) == 0
    t += timedelta(minutes=1)
    out = reply(app.handle(Incoming("console", "张经理", "/撤销", t, project=project)))
    assert "没有可以撤销" in out, out                 # the opening itself stays
    assert snapshot(engine, project) == opened


EVERY_KIND = [   # (who, text): each one changes the day; together every command that changes anything
    ("李四", "接待"), ("李四", "到访 王建国 13812345678 看三居"), ("李四", "跟进 13812345678 电话沟通"),
    ("李四", "成交 王建国 13812345678 2套"), ("王五", "申诉 13812345678 是我先接待的"), ("李四", "送客"),
    ("王五", "来客"), ("王五", "非客 装修"), ("王五", "送客"), ("赵六", "暂离 吃饭"), ("赵六", "回来"),
    ("钱七", "外出 看房"), ("钱七", "回来"), ("王五", "签退"), ("王五", "签到"), ("赵六", "请假"),
    ("张经理", "/跳过 李四 没打招呼"), ("张经理", "/补接 李四"), ("张经理", "/指派 钱七"),
    ("钱七", "到访 王建国 13900001111"), ("张经理", "/核实 13900001111 不同人"), ("张经理", "/批准 钱七"),
    ("钱七", "送客"), ("张经理", "/顺序 钱七 王五 李四"), ("张经理", "/开班 王五 李四 钱七"),
    ("张经理", "/裁定 13812345678 归 王五 李四"), ("张经理", "/释放 13900001111"), ("王五", "外出 看房"),
    ("钱七", "代接 13812345678"), ("钱七", "送客"), ("张经理", "/成员 添加 孙八"), ("张经理", "/成员 经理 王五"),
    ("张经理", "/成员 移除 孙八"),
]


def test_each_command_kind_is_undone_exactly(db_url, tmp_path, monkeypatch):
    """Step by step through every kind of change, then /撤销 one at a time: each undo gives back
    exactly the state before that step (the 接待 → 到访 pair is the FOREIGN KEY crash of issue 9)."""
    monkeypatch.chdir(tmp_path)
    eng = make_engine(db_url)
    migrate(eng)
    app, project = new_app(eng)
    t = at("2026-11-27 09:00")
    app.run_due(t, project)
    app.handle(Incoming("console", "张经理", "/开班 李四 王五 赵六 钱七", t, project=project))
    snaps = [snapshot(eng, project)]
    for who, text in EVERY_KIND:
        t += timedelta(minutes=2)
        out = reply(app.handle(Incoming("console", who, text, t, project=project)))
        snaps.append(snapshot(eng, project))
        assert snaps[-1] != snaps[-2], (who, text, out)          # the step changed something
    for before in reversed(snaps[:-1]):
        t += timedelta(minutes=1)
        out = reply(app.handle(Incoming("console", "张经理", "/撤销", t, project=project)))
        assert out.startswith("已撤销"), out
        assert snapshot(eng, project) == before, out
    eng.dispose()


def test_undo_walks_past_the_schedulers_own_changes_and_they_happen_again(db_url, tmp_path):
    """A reception over 120 minutes makes its member available again (the scheduler's change). /撤销
    of an earlier command is not blocked by it: it is undone too, and done again where it still applies."""
    eng = make_engine(db_url)
    migrate(eng)
    app, project = new_app(eng)

    def say(who, text, hhmm):
        return reply(app.handle(Incoming("console", who, text, at(f"2026-11-27 {hhmm}"), project=project)))

    app.run_due(at("2026-11-27 09:00"), project)
    say("张经理", "/开班 李四 王五 赵六", "09:00")
    say("李四", "接待", "09:01")
    say("王五", "暂离 吃饭", "09:30")
    app.run_due(at("2026-11-27 11:02"), project)                       # 李四's reception is over time
    queue = {e["name"]: e["presence"] for e in snapshot(eng, project)["queue"]["queue"]}
    assert queue["李四"] == "available" and queue["王五"] != "available", queue
    out = say("张经理", "/撤销", "11:05")
    assert out.startswith("已撤销") and "王五 的「暂离" in out, out
    queue = {e["name"]: e["presence"] for e in snapshot(eng, project)["queue"]["queue"]}
    assert queue["王五"] == "available"
    say("赵六", "轮排", "11:06")                                        # the scheduler runs again first
    queue = {e["name"]: e["presence"] for e in snapshot(eng, project)["queue"]["queue"]}
    assert queue["李四"] == "available", queue                         # still over time: available again
    out = say("张经理", "/撤销", "11:07")
    assert out.startswith("已撤销") and "李四 的「接待" in out, out
    queue = {e["name"]: e["presence"] for e in snapshot(eng, project)["queue"]["queue"]}
    assert queue["李四"] == "available" and not snapshot(eng, project)["receptions"]
    eng.dispose()
