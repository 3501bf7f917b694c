"""The language layer end to end through `App.handle` (issue 9 items 3–5, issue 11 items 6–7)."""
from __future__ import annotations

import logging

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from storage import models as m
from storage.uow import UnitOfWork
from tests.bus import P, opened, say
from tests.conftest import at, fixed


@pytest.fixture
def app(db_url, config_file):
    return opened(db_url, config_file)


def members(app) -> list[str]:
    with UnitOfWork(app.engine, readonly=True) as uow:
        return list(uow.session.scalars(select(m.Member.name).order_by(m.Member.id)))


def test_the_visit_note_is_kept_and_shown_in_the_exports_remark_column(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    say(app, "李四", "到访 李娟，13912345678 看三居", "09:05")
    out = say(app, "张经理", "/导出 2026-11-01 2026-11-30", "10:00")
    sheet = load_workbook(out[0].file)["来访客户登记表"]
    headers = [c.value for c in sheet[1]]
    assert "看三居" in sheet.cell(2, headers.index("备注") + 1).value


def test_lookup_by_masked_phone_or_last_four_lists_every_match_masked(app):
    say(app, "李四", "到访 李娟 13912345678", "09:05")
    say(app, "李四", "送客", "09:10")
    say(app, "王五", "到访 陈建华 13812345678", "09:15")
    [one] = say(app, "赵六", "查客 139****5678")
    assert "李娟" in one.text and "陈建华" not in one.text
    [both] = say(app, "赵六", "查客 5678")
    assert "李娟" in both.text and "陈建华" in both.text and "13812345678" not in both.text


def test_follow_up_takes_the_customer_first_and_the_phone_in_the_note_is_text(app):
    say(app, "李四", "到访 王建国 13812345678", "09:05")
    [out] = say(app, "李四", "跟进 王建国 他老婆电话 139 0000 2222 明天来", "09:20")
    assert "王建国" in out.text and "已记录" in out.text
    [log] = say(app, "张经理", "/记录", "09:40")
    assert "13900002222" not in log.text and "139 0000 2222" not in log.text and "139****2222" in log.text


@pytest.mark.parametrize("text", ["/成员 添加 @", "/成员 添加 " + "张" * 21, "/成员 添加 李四\x00"])
def test_roster_names_are_checked_at_the_boundary(app, text):
    say(app, "张经理", text)
    assert "" not in members(app) and all(len(n) <= 20 and "\x00" not in n for n in members(app))
    assert members(app).count("李四") == 1


def test_a_command_over_2000_characters_is_refused_in_one_line_and_long_chat_is_ignored(app):
    [out] = say(app, "李四", "暂离 " + "有事" * 1500)
    assert "太长" in out.text and "\n" not in out.text and len(out.text) < 100
    assert say(app, "李四", "转发：" + "通知" * 1500) == []
    [private] = say(app, "李四", "转发：" + "通知" * 1500, private=True)
    assert "帮助" in private.text


def test_export_dates_out_of_range_are_refused_not_overflowing(app):
    [out] = say(app, "张经理", "/导出 0001-01-01 9999-12-31")
    assert "2000-01-01" in out.text and "抱歉" not in out.text


def test_an_internal_error_logs_the_message_id_and_verb_but_never_the_text(app, caplog, monkeypatch):
    import handlers.registry as registry
    from handlers import commands as c

    def boom(cmd, ctx):
        raise RuntimeError(f"bad {cmd}")
    monkeypatch.setitem(registry.HANDLERS, c.Visit, boom)
    with caplog.at_level(logging.ERROR):
        app.handle(Incoming("console", "李四", "到访 张三 13812345678", at("2026-11-27 09:05"), project=P,
                            event_id="feishu:ev-42"))
    [record] = caplog.records
    assert "feishu:ev-42" in record.getMessage() and "到访" in record.getMessage()
    assert "13812345678" not in caplog.text and "张三" not in record.getMessage()


def test_a_bullet_in_a_name_is_the_middle_dot_in_the_config_and_in_the_chat(db_url, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: Asia/Shanghai\npolicy: {preset: real_estate}\nprojects:\n  - name: 阳光花园\n"
                   "    managers: [张经理]\n    salespeople: [阿依•古丽, 李四]\n", encoding="utf-8")
    app = bootstrap(cfg, db_url=db_url, clock=fixed())
    [out] = say(app, "张经理", "/开班 阿依‧古丽，李四", "09:00")
    assert "阿依·古丽" in out.text and "名单里没有" not in out.text
    [out] = say(app, "张经理", "/指派 阿依・古丽", "09:10")
    assert "下一位:阿依·古丽" in out.text
