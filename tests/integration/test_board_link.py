"""/看板 [重置], /周报, /月报 through App.handle: who may use them, where the answer goes, what changes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.parser import Usage, parse
from handlers import commands as c
from handlers.messages import Incoming
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at, fixed

CONFIG = """
timezone: Asia/Shanghai
%(web)s
projects:
  - name: 阳光花园
    managers: [张经理]
    salespeople: [李四, 王五]
"""
WEB = 'web: {port: 8080, base_url: "https://board.example.com/"}'


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(web: str = WEB, db: str = "sqlite://"):
        cfg = tmp_path / "config.yaml"
        cfg.write_text(CONFIG % {"web": web}, encoding="utf-8")
        return bootstrap(cfg, db_url=db, clock=fixed())
    return make


def say(app, who, text, when="2026-11-27 10:00", private=False):
    return app.handle(Incoming("console", who, text, at(when), private=private, project="阳光花园"))


def tokens(app, model=m.BoardToken) -> list[str]:
    with UnitOfWork(app.engine, readonly=True) as uow:
        return list(uow.session.scalars(select(model.token)))


def test_the_link_goes_privately_to_the_manager_even_when_asked_in_the_group(make_app):
    app = make_app()
    [out] = say(app, "张经理", "/看板")
    assert out.to == "张经理"
    [token] = tokens(app)
    assert f"https://board.example.com/board/{token}" in out.text
    assert "/report/" not in out.text                             # the TV's link carries no figures (§10)
    assert len(token) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    [again] = say(app, "张经理", "/看板", "2026-11-27 10:05")
    assert tokens(app) == [token] and token in again.text          # the same link until reset


def test_reset_issues_a_new_token_and_logs_nothing_to_undo(make_app):
    app = make_app()
    say(app, "张经理", "/看板")
    [old] = tokens(app)
    [out] = say(app, "张经理", "/ 看板　重置")                        # full-width space, spaced slash
    [new] = tokens(app)
    assert new != old and new in out.text and old not in out.text and "旧链接已失效" in out.text
    with UnitOfWork(app.engine, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Audit)) == 0


@pytest.mark.parametrize("text", ["/看板", "/看板 重置", "/报表", "/报表 重置", "/周报", "/月报", "/月报 上月"])
def test_salespeople_cannot_get_links_or_reports(make_app, text):
    app = make_app()
    [out] = say(app, "李四", text)
    assert "只有经理可以使用" in out.text and out.file is None
    assert tokens(app) == [] and tokens(app, m.ReportToken) == []


def test_the_report_has_its_own_link_and_its_own_reset(make_app):
    """RULES §10: the board's link is not the report's; resetting one leaves the other working."""
    app = make_app()
    [board] = say(app, "张经理", "/看板")
    [report] = say(app, "张经理", "/报表")
    [b], [r] = tokens(app), tokens(app, m.ReportToken)
    assert b != r and report.to == "张经理" and f"https://board.example.com/report/{r}" in report.text
    assert "/board/" not in report.text and b not in report.text
    [again] = say(app, "张经理", "/报表 重置", "2026-11-27 10:05")
    [r2] = tokens(app, m.ReportToken)
    assert r2 != r and r2 in again.text and r not in again.text and "旧链接已失效" in again.text
    assert tokens(app) == [b]                                   # the board's link still works


def test_without_web_config_the_manager_is_told_how_to_enable_it(make_app):
    app = make_app(web="")
    [out] = say(app, "张经理", "/看板")
    assert "看板未启用" in out.text and "config.yaml" in out.text and tokens(app) == []


def test_weekly_report_goes_to_the_group_with_a_chart(make_app):
    app = make_app()
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    say(app, "李四", "接待", "2026-11-27 09:10")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:12")
    [out] = [o for o in say(app, "张经理", "/周报", "2026-11-27 18:00") if o.text.startswith("【周报】")]
    assert out.to is None and out.file and out.file.endswith(".png")
    assert out.text.startswith("【周报】阳光花园 11-21 至 11-27")
    assert "李四：接待 1（计名次 1），登记 1，成交 0，转化 0%" in out.text
    assert "13812345678" not in out.text and "张三" not in out.text
    [month] = [o for o in say(app, "张经理", "/月报", "2026-11-27 18:01") if o.file]
    assert month.text.startswith("【月报】阳光花园 11-01 至 11-27")


@pytest.mark.parametrize("text", ["/看板 foo", "/看板 重置 重置", "/看板 reset", "/报表 foo", "/报表 重置 1"])
def test_board_word_with_another_argument_gets_the_usage_line(text):
    with pytest.raises(Usage):
        parse(text)


def test_board_and_report_words_parse():
    assert parse("/看板")[1] == c.BoardLink(False) and parse("/看板 重置")[1] == c.BoardLink(True)
    assert parse("/周报")[1] == c.PeriodReport("week") and parse("/月报")[1] == c.PeriodReport("month")
    assert parse("看板")[1] == c.BoardLink(False)      # like the other manager words, the slash is optional
    assert parse("/报表")[1] == c.ReportLink(False) and parse("/报表 重置")[1] == c.ReportLink(True)


@pytest.mark.parametrize(("verb", "path"), [("/看板", "board"), ("/报表", "report")])
def test_the_link_comes_with_its_qr_code_as_an_image(make_app, verb, path, tmp_path, monkeypatch):
    """A TV remote cannot type the link: the reply carries a PNG whose QR code holds exactly the link
    (compared module by module with the code the qrcode package makes of that URL; no decoder here)."""
    import qrcode
    from PIL import Image, ImageChops

    monkeypatch.chdir(tmp_path)
    app = make_app()
    [out] = say(app, "张经理", verb)
    [url] = re.findall(r"https://\S+", out.text)
    assert f"/{path}/" in url and out.file and out.file.endswith(".png") and out.to == "张经理"
    expected = tmp_path / "expected.png"
    qrcode.make(url, box_size=10, border=4).save(str(expected))
    got, want = Image.open(out.file).convert("1"), Image.open(expected).convert("1")
    assert got.size == want.size and got.size[0] >= 250 and ImageChops.difference(got, want).getbbox() is None
    other = tmp_path / "other.png"
    qrcode.make(url + "x", box_size=10, border=4).save(str(other))
    assert ImageChops.difference(got, Image.open(other).convert("1")).getbbox() is not None


def test_the_chart_is_drawn_by_the_drawer_the_app_was_given(make_app, tmp_path):
    """The chart is a port (issue 18 item 5): /周报 hands the report to the App's drawer, as /导出 hands
    its sheets to the workbook writer; without one the text still goes and says why there is no chart."""
    app = make_app()
    drawn = []

    def drawer(rep, path):
        drawn.append((rep.project, [r.name for r in rep.rows], path.name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG")
        return path
    app.draw_chart = drawer
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    [out] = [o for o in say(app, "张经理", "/周报", "2026-11-27 18:00") if o.text.startswith("【周报】")]
    assert drawn == [("阳光花园", ["李四", "王五"], "阳光花园_week_2026-11-21_2026-11-27.png")]
    assert out.file == str((tmp_path / "exports" / drawn[0][2]).resolve())
    app.draw_chart = None
    [out] = [o for o in say(app, "张经理", "/周报", "2026-11-27 18:01") if o.text.startswith("【周报】")]
    assert out.file is None and "图表未能生成" in out.text
