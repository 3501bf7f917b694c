"""A closed period never changes (RULES §11, issue 19 item 1): registrations and lapses are dated
facts written when they happen, so a 公客 registered again keeps its earlier registration and lapse
in last month's report — through the bus, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers import reports
from handlers.messages import Incoming
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at

P = "阳光花园"
PHONE = "13812345678"


def say(app, who: str, text: str, when: str) -> str:
    app.run_due(at(when), P)
    outs = app.handle(Incoming("console", who, text, at(when), project=P))
    app.mark_sent([o.key for o in outs], at(when))
    return "\n".join(o.text for o in outs)


def visit(app, who: str, day: str) -> None:
    say(app, "张经理", "/开班 李四 王五 赵六", f"{day} 09:00")
    say(app, "张经理", f"/指派 {who}", f"{day} 09:01")
    say(app, who, f"到访 张三 {PHONE}", f"{day} 09:05")
    say(app, who, "送客", f"{day} 09:40")


def export(app, days: str) -> str:
    app.run_due(at("2026-12-10 10:05"), P)
    [out] = [o for o in app.handle(Incoming("console", "张经理", f"/导出 {days}", at("2026-12-10 10:05"), project=P))
             if o.file]
    return out.file


def figures(app, span: tuple[date, date]) -> tuple:
    """Every figure of the report the page, the PNG, /月报 and the 汇总 sheet share."""
    with UnitOfWork(app.engine, readonly=True) as uow:
        pid = uow.session.scalar(select(m.Project.id).where(m.Project.name == P))
        rep = reports.build(uow.report_figures, pid, P, at("2026-11-01 00:00").tzinfo, span, at("2026-12-20 12:00"))
    return tuple(tuple(r.cells()) for r in rep.rows), rep.daily


NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
WEEK = (date(2026, 11, 2), date(2026, 11, 8))


def test_a_public_customer_registered_again_leaves_last_months_report_unchanged(db_url, config_file, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)                     # the chart and the workbook land there
    app = bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-02 08:00")))
    visit(app, "李四", "2026-11-02")                # 李四 registers 张三 (valid until 11-09)
    visit(app, "王五", "2026-11-25")                # lapsed on 11-09: a 公客, now registered to 王五
    month_before = say(app, "张经理", "/月报 2026-11", "2026-12-01 10:00")
    nov, week = figures(app, NOVEMBER), figures(app, WEEK)
    rows = {r[0]: r for r in nov[0]}
    assert (rows["李四"][3], rows["李四"][7]) == (1, 1)        # 登记 1 and 流失公客 1 stay with 李四
    assert (rows["王五"][3], rows["王五"][7]) == (1, 0)
    assert {r[0]: r[3] for r in week[0]}["李四"] == 1

    visit(app, "赵六", "2026-12-10")                # 王五's registration lapsed on 12-02: 赵六 registers it
    assert figures(app, NOVEMBER) == nov and figures(app, WEEK) == week
    month_after = say(app, "张经理", "/月报 2026-11", "2026-12-10 10:00")
    assert month_after == month_before and "登记 2" in month_after and "流失公客 1" in month_after
    sheet = load_workbook(export(app, "2026-11-01 2026-11-30"))["来访客户登记表"]
    assert [(r[1], r[4]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [("张三", "李四"), ("张三", "王五")]
    december = {r[0]: r for r in figures(app, (date(2026, 12, 1), date(2026, 12, 19)))[0]}
    assert (december["王五"][7], december["赵六"][3]) == (1, 1)
    app.engine.dispose()


def test_undoing_a_registration_takes_its_dated_fact_back(db_url, config_file):
    app = bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-02 08:00")))
    visit(app, "李四", "2026-11-02")
    say(app, "张经理", "/开班 李四 王五 赵六", "2026-11-25 09:00")
    say(app, "张经理", "/指派 王五", "2026-11-25 09:01")
    assert "重新登记" in say(app, "王五", f"到访 张三 {PHONE}", "2026-11-25 09:05")
    before = {r[0]: r for r in figures(app, NOVEMBER)[0]}
    assert (before["王五"][3], before["李四"][7]) == (1, 1)
    say(app, "张经理", "/撤销", "2026-11-25 09:06")
    after = {r[0]: r for r in figures(app, NOVEMBER)[0]}
    assert (after["王五"][3], after["李四"][3], after["李四"][7]) == (0, 1, 1)   # the lapse: still on record
    app.engine.dispose()
