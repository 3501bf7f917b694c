"""Issue 17 items 13–17 through `App.handle` on SQLite and PostgreSQL: commands sent in a private
chat are announced in the group, and what the outbox holds for each."""
from __future__ import annotations

import pytest

from rules.enums import MessageKind
from tests.bus import opened, say


@pytest.fixture
def app(db_url, config_file):
    return opened(db_url, config_file)


def _private(app, who, text, when):
    return say(app, who, text, when, private=True)


# ---- item 16: a private command that changes the queue or the register -----------------------
def test_a_walk_in_taken_in_a_private_chat_is_announced_in_the_group_with_the_next_up(app):
    out = _private(app, "李四", "接待", "09:05")
    group = [o for o in out if o.to is None]
    mine = [o for o in out if o.to == "李四"]
    assert len(group) == 1 and len(mine) == 1 and len(out) == 2
    assert group[0].text.startswith("李四 接待新客户") and group[0].text.endswith("下一位:王五")
    assert group[0].mentions == ("王五",) and group[0].kind == MessageKind.ANNOUNCE
    assert mine[0].text.startswith("已办理，并已在项目群里公布：李四 接待新客户") and "\n" not in mine[0].text


def test_a_private_registration_is_announced_with_the_phone_masked(app):
    out = _private(app, "李四", "到访 张三 13812345678", "09:05")
    [group] = [o for o in out if o.to is None]
    assert "138****5678" in group.text and "13812345678" not in group.text
    assert "下一位:王五" in group.text
    assert [o.to for o in out if o.to is not None] == ["李四"]


@pytest.mark.parametrize("text", ["暂离", "暂离一下", "外出 送合同", "签退"])
def test_presence_changed_privately_is_announced(app, text):
    out = _private(app, "王五", text, "09:05")
    [group] = [o for o in out if o.to is None]
    assert group.text.startswith("王五 ") and "下一位:" in group.text


def test_a_private_refusal_stays_private_and_changes_nothing(app):
    out = _private(app, "王五", "接待", "09:05")          # 李四 is next
    assert [o.to for o in out] == ["王五"] and "现在轮到 李四" in out[0].text
    board = say(app, "赵六", "轮排", "09:06")
    assert "下一位:李四" in board[0].text


@pytest.mark.parametrize("text", ["轮排", "我的客户", "查客 张三", "帮助"])
def test_a_private_question_is_answered_privately_only(app, text):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    out = _private(app, "李四", text, "09:10")
    assert all(o.to == "李四" for o in out) and out


def test_a_managers_private_skip_is_announced_and_the_skipped_member_still_told(app):
    out = _private(app, "张经理", "/跳过 李四 没来", "09:05")
    group = [o for o in out if o.to is None]
    assert len(group) == 1 and "下一位:王五" in group[0].text
    assert {o.to for o in out if o.to} == {"张经理", "李四"}


# ---- item 15: one record per person, and /撤销 of the 同一人 decision ----------------------------
def _count_customers(app) -> int:
    from sqlalchemy import func, select

    from storage import models as m
    from storage.uow import UnitOfWork
    with UnitOfWork(app.engine, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(m.Customer))


def test_same_person_merges_into_one_record_and_undo_splits_it_back(app):
    say(app, "李四", "到访 张三 13812345678", "09:05")
    say(app, "李四", "送客", "09:10")
    say(app, "王五", "到访 张三 13900002222", "09:15")
    assert _count_customers(app) == 2
    out = say(app, "张经理", "/核实 139****2222 同一人", "09:20")
    assert "139****2222 并入同一客户" in out[0].text and _count_customers(app) == 1
    looked = say(app, "赵六", "查客 13900002222", "09:21")
    assert "张三" in looked[0].text and "归属 李四" in looked[0].text
    undone = say(app, "张经理", "/撤销", "09:22")
    assert undone[0].text.startswith("已撤销") and _count_customers(app) == 2
    again = say(app, "赵六", "查客 13900002222", "09:23")
    assert "待核实" in again[0].text or "待经理核实" in again[0].text


# ---- item 14 on the database: the lapse notice survives a registration at 00:02 -------------------
def _at(app, who, text, when, private=False):
    from handlers.messages import Incoming
    from tests.bus import P
    from tests.conftest import at
    return app.handle(Incoming("console", who, text, at(when), project=P, private=private))


def test_a_lapse_taken_at_0002_is_told_at_nine_and_the_former_owner_is_answered(app):
    say(app, "李四", "到访 顾一 13800001111", "09:05")           # valid through 12-04
    say(app, "李四", "送客", "09:10")
    taken = _at(app, "王五", "到访 顾一 13800001111", "2026-12-05 00:02")
    assert any("顾一" in o.text and "公客" in o.text for o in taken if o.to is None)
    assert not [o for o in taken if o.to in ("李四", "张经理")]           # nothing pushed at night
    later = _at(app, "赵六", "轮排", "2026-12-05 09:01")
    told = sorted(o.to for o in later if "现已由 王五 重新登记" in o.text)
    assert told == ["张经理", "李四"]
    answer = _at(app, "李四", "跟进 顾一 打过电话", "2026-12-05 10:00", private=True)
    assert "12-04 24:00 起成为公客" in answer[0].text and "现归 王五" in answer[0].text
    appeal = _at(app, "李四", "申诉 138****1111 我一直在跟", "2026-12-05 10:05", private=True)
    assert [o.to for o in appeal if o.text.startswith("归属申诉：")] == ["张经理"]


def test_an_appeal_sent_privately_stays_private(app):
    say(app, "李四", "到访 顾一 13800001111", "09:05")
    out = _private(app, "王五", "申诉 13800001111 我先接待的", "09:20")
    assert None not in [o.to for o in out] and {o.to for o in out} == {"王五", "张经理"}


# ---- item 13: 更正 旧手机 新手机 on the database, and its /撤销 ----------------------------------------
def test_a_phone_correction_is_kept_and_undone_exactly(app):
    say(app, "李四", "到访 张三 13800001111", "09:05")
    refused = say(app, "李四", "到访 张三 13800001112", "09:06")
    assert "更正 138****1111 新手机" in refused[0].text
    out = say(app, "李四", "更正 138****1111 13800001112", "09:07")
    assert out[0].text == "已更正 张三 的手机：138****1111 → 138****1112，归属 李四 不变。"
    assert "归属 李四" in say(app, "王五", "查客 13800001112", "09:08")[0].text
    undone = say(app, "张经理", "/撤销", "09:11")
    assert "更正" in undone[0].text
    assert "归属 李四" in say(app, "王五", "查客 13800001111", "09:12")[0].text


def test_details_filled_in_privately_are_announced_without_a_queue_line(app):
    say(app, "李四", "接待", "09:05")
    out = _private(app, "李四", "到访 张三 13812345678", "09:07")     # fills the open 接待: the queue stays
    [group] = [o for o in out if o.to is None]
    assert group.text.startswith("李四 报到访：张三（138****5678）") and "下一位" not in group.text
