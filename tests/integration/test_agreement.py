"""RULES §11 "every view agrees", as a property (issue 17 "What to build" 5): random days under all
three presets; after every step, for every member, today's counted and uncounted receptions are the
same in the state, 轮排, the live board, the 日报, the report data, the /周报 text and the /导出
receptions sheet. The counts have one source, the receptions table (issue 18 item 4): the saved day
(`projects.state`) holds none, and a day saved with counts of its own shows the table's."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.xlsx import write_workbook
from bot.app import App
from bot.bootstrap import TYPED_NAMES
from bot.clock import FakeClock
from bot.config import Config, project_settings
from bot.config_sync import sync
from handlers import admin, export_rows, reports
from handlers.board_view import board_state
from handlers.context import Ctx
from handlers.messages import Incoming
from handlers.state_view import dump
from rules import texts as T
from rules.enums import Category
from rules.queue import Day
from storage.db import make_engine
from storage.uow import UnitOfWork, Units
from tests.conftest import at
from tests.integration.test_invariants import MEMBERS, NAMES, NEXT_DAY, PHONES, P, _migrated, command, drive

extra = st.one_of(
    command,
    st.tuples(st.sampled_from(MEMBERS), st.builds(lambda i, j, k: f"到访 {NAMES[i]} {PHONES[j]} 点名 {MEMBERS[k]}",
                                                  st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))),
    st.tuples(st.sampled_from(MEMBERS), st.sampled_from(["不接", "接手 13800000001", "到访 13800000002"])),
    st.tuples(st.just("张经理"), st.builds(lambda k: f"/驳回 {MEMBERS[k]}", st.integers(0, 3))),
)


def app_for(preset: str) -> App:
    cfg = Config.model_validate({"policy": {"preset": preset},
                                 "projects": [{"name": P, "managers": ["张经理"], "salespeople": MEMBERS}]})
    engine = make_engine("sqlite://")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.deserialize(_migrated())
    app = App(Units(engine), project_settings(cfg), FakeClock(at("2026-11-27 08:00")), write_workbook=write_workbook,
              typed_names=TYPED_NAMES)
    sync(app.uows, app.projects, app.clock.now())
    return app


def views(app: App, now) -> dict[str, dict[str, tuple]]:
    """{view: {member: (counted,) or (counted, uncounted)}} for the day of `now`."""
    ps, d = app.projects[P], now.date()
    state = {q["name"]: (q["counted"],) for q in dump(app.engine, ps, now)["queue"]}
    with UnitOfWork(app.engine, readonly=True) as uow:
        row = uow.projects.the_one_named(P)
        ctx = Ctx(uow, row, ps, Day.from_dict(row.state), now, "张经理")
        board = admin.board(None, ctx).text if ctx.day_open() and ctx.day.date == d else ""
        daily = admin.summary_text(ctx, d)
        rep = reports.build(uow.report_figures, row.id, P, ps.tz, (d, d), now)
        weekly = reports.summary_text(rep, T.REPORT_TITLE["week"])
        sheet = export_rows.sheets(ctx, d, d)[1].rows
        live = board_state(uow, row, ps, now)["queue"]
    out = {"state": state if board else {},
           "board": {q["name"]: (q["counted"],) for q in live} if board else {},
           "轮排": {n: (int(c),) for n, c in re.findall(r"^\d+\. (\S+) \S+ (\d+)次", board, re.M)},
           "日报": {n: (int(a), int(b)) for n, a, b in re.findall(r"([^\s：、]+) 计(\d+)/不计(\d+)", daily)},
           "report": {r.name: (r.counted, r.uncounted) for r in rep.rows if r.counted or r.uncounted},
           "周报": {n: (int(c), int(a) - int(c)) for n, a, c in re.findall(r"(\S+)：接待 (\d+)（计名次 (\d+)）", weekly)
                   if int(a) and n != T.REPORT_TOTAL_ROW},
           "导出": _sheet_counts(sheet)}
    return out


def _sheet_counts(rows) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for r in rows:
        member, counted, category = r[3], r[7], r[6]
        if category == T.CATEGORY[Category.ERRAND]:
            continue
        if counted == T.EXPORT_YES:
            out.setdefault(member, [0, 0])[0] += 1
        elif counted == T.EXPORT_NO:
            out.setdefault(member, [0, 0])[1] += 1
        else:                                           # counted for someone else (the owner)
            out.setdefault(counted, [0, 0])[0] += 1
            out.setdefault(member, [0, 0])[1] += 1
    return {k: tuple(v) for k, v in out.items()}


def agree(v: dict[str, dict[str, tuple]]) -> None:
    full = v["日报"]
    for name in ("report", "周报", "导出"):
        assert v[name] == full, (name, v)
    for name in ("state", "轮排", "board"):
        for member, (counted,) in v.get(name, {}).items():
            assert counted == full.get(member, (0, 0))[0], (name, member, v)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["real_estate", "auto_dealer", "count_all"]), st.lists(extra, min_size=5, max_size=30))
def test_every_view_of_a_day_shows_the_same_receptions(preset, cmds):
    app = app_for(preset)
    for t, _out in drive(app, [c for c in cmds]):
        agree(views(app, t))


def test_the_views_can_disagree_and_the_check_would_say_so():
    v = {"日报": {"李四": (1, 0)}, "report": {"李四": (1, 0)}, "周报": {"李四": (1, 0)}, "导出": {"李四": (1, 0)},
         "state": {"李四": (1,)}, "轮排": {"李四": (1,)}, "board": {"李四": (2,)}}
    try:
        agree(v)
    except AssertionError:
        return
    raise AssertionError("agree() let a disagreement through")


def test_a_helpers_reception_counted_for_the_owner_is_the_owners_in_the_export():
    app = app_for("auto_dealer")
    steps = [("李四", "到访 张三 13800000001"), ("李四", "送客"), NEXT_DAY, ("李四", "签到"), ("王五", "签到"),
             ("李四", "暂离"), ("李四", "让 王五 代接"), ("王五", "代接 13800000001"), ("王五", "送客")]
    for t, out in drive(app, steps):
        last, said = t, out
    assert "计 李四 一个名次" in said[0].text
    v = views(app, last)
    assert v["导出"]["李四"] == (1, 0) and v["导出"]["王五"] == (0, 1)
    agree(v)


def _saved_queue(app: App) -> list[dict]:
    with UnitOfWork(app.engine, readonly=True) as uow:
        return list(uow.projects.the_one_named(P).state["queue"])


def test_the_saved_day_keeps_no_counts_and_one_saved_with_its_own_shows_the_tables():
    """Facts stored once (issue 18 item 4): `projects.state` holds no count and no open reception;
    a database saved before (its day with counts of its own, here ones that disagree) loads, and
    every view shows the receptions table's counts; the next command saves the day without them."""
    app = app_for("real_estate")
    steps = [("李四", "接待"), ("李四", "送客"), ("王五", "接待")]
    for t, _out in drive(app, steps):
        last = t
    assert all("counted" not in q and "receptions" not in q for q in _saved_queue(app))
    before = views(app, last)
    assert before["轮排"]["李四"] == (1,) and before["board"]["王五"] == (1,)
    with UnitOfWork(app.engine) as uow:          # as an older version saved it, and out of step
        row = uow.projects.the_one_named(P)
        row.state = {**row.state, "queue": [{**q, "counted": 3, "receptions": [999]} for q in row.state["queue"]]}
        uow.commit()
    v = views(app, last)
    agree(v)
    assert v == before
    app.handle(Incoming("console", "王五", "送客", last, project=P))
    assert all("counted" not in q and "receptions" not in q for q in _saved_queue(app))


def test_undo_gives_back_the_counts_the_rows_had():
    """/撤销 restores the day from its before-image and the rows: the count undone is gone from every view."""
    app = app_for("real_estate")
    for t, _out in drive(app, [("李四", "接待")]):
        last = t
    assert views(app, last)["轮排"]["李四"] == (1,)
    app.handle(Incoming("console", "张经理", "/撤销", last, project=P))
    v = views(app, last)
    agree(v)
    assert v["轮排"]["李四"] == (0,) and v["board"]["李四"] == (0,) and "李四" not in v["日报"]


def test_a_reception_open_since_before_the_opening_keeps_its_member_receiving():
    """Open receptions are the table's too: 李四, still with the visitor of 08:50 (before the opening),
    sees off the one of 09:05 and is told one is still open; the queue says 接待中 as well (the copy
    in the saved day knew only the receptions begun in the queue, and said 在岗)."""
    app = app_for("real_estate")

    def say(who: str, text: str, hhmm: str) -> str:
        out = app.handle(Incoming("console", who, text, at(f"2026-11-27 {hhmm}"), project=P))
        return "\n".join(o.text for o in out)
    say("李四", "接待", "08:50")
    app.run_due(at("2026-11-27 09:00"), P)
    say("李四", "签到", "09:01")
    say("王五", "签到", "09:01")
    say("李四", "接待", "09:05")
    assert "还有 1 位客户在接待中" in say("李四", "送客 09:05", "09:10")
    assert "李四 接待中 1次" in say("李四", "轮排", "09:11")
    say("李四", "送客", "09:20")
    assert "李四 在岗 1次" in say("李四", "轮排", "09:21")
