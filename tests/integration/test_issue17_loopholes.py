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
