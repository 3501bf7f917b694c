"""The bus end to end on SQLite and PostgreSQL: refusals, undo, redelivery, privacy, errors."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from handlers.state_view import dump
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at, fixed

P = "阳光花园"


@pytest.fixture
def app(db_url, config_file):
    return bootstrap(config_file(), db_url=db_url, clock=fixed())


def say(app, sender, text, when, **kw):
    """The console adapter: handle, show, mark sent (every reply is in the outbox)."""
    out = app.handle(Incoming("console", sender, text, at(when), project=P, **kw))
    app.mark_sent([o.key for o in out], at(when))
    return out


def snapshot(app, when):
    with UnitOfWork(app.engine) as uow:
        s = uow.session
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                  for t in (m.Customer, m.Reception, m.Deal, m.Audit)}
        state = s.scalar(select(m.Project.state))
    return dump(app.engine, app.projects[P], at(when)), counts, state


# What the bus itself refuses (the parser, the manager-only check) and one handler refusal: each is
# answered in Chinese, rolled back, and leaves no change-log row. The handlers' own refusals, one by
# one: tests/unit/test_handlers.py.
BAD_INPUT = [
    ("李四", "到访 张三"),                      # no phone: the parser's usage line
    ("李四", "/开班开班"),                       # unknown word
    ("李四", "/跳过 王五"),                      # not a manager
    ("王五", "到访 刘一 13900001111"),          # not the next-up
    ("张经理", "/开班"),                          # already open
]


def test_bad_input_gets_a_clear_refusal_and_changes_nothing(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "2026-11-27 09:00")
    before = snapshot(app, "2026-11-27 09:30")
    for who, text in BAD_INPUT:
        out = say(app, who, text, "2026-11-27 09:10")
        assert len(out) == 1, text
        reply = out[0].text
        assert reply and "Traceback" not in reply and "下一位" not in reply, (text, reply)
        assert re.search(r"[\u4e00-\u9fff]", reply), reply
    assert snapshot(app, "2026-11-27 09:30") == before


def test_undo_walks_back_exactly_through_todays_changes(app):
    say(app, "张经理", "/开班 李四 王五 赵六", "2026-11-27 09:00")
    steps = [("李四", "到访 张三 13812345678"), ("李四", "送客"), ("王五", "接待"),
             ("王五", "到访 张三 13812345678"), ("李四", "成交 张三 13812345678 2套"), ("张经理", "/补接 赵六")]
    snaps = [snapshot(app, "2026-11-27 11:00")]
    for i, (who, text) in enumerate(steps):
        out = say(app, who, text, f"2026-11-27 09:{10 + i}")
        assert snapshot(app, "2026-11-27 11:00") != snaps[-1], (text, out[0].text)
        snaps.append(snapshot(app, "2026-11-27 11:00"))
    for i in range(len(steps)):
        out = say(app, "张经理", "/撤销", f"2026-11-27 10:{10 + i}")
        assert out[0].text.startswith("已撤销"), out[0].text
        state, counts, raw = snapshot(app, "2026-11-27 11:00")
        want_state, want_counts, want_raw = snaps[-2 - i]
        assert state == want_state and raw == want_raw
        assert counts["customers"] == want_counts["customers"] and counts["deals"] == want_counts["deals"]
    # the /开班 itself is undone next; the scheduler's opening of the day is not undoable (if the
    # /开班 stood in for it, the scheduler opens the day again first)
    assert say(app, "张经理", "/撤销", "2026-11-27 10:30")[-1].text.startswith("已撤销")
    assert "没有可以撤销" in say(app, "张经理", "/撤销", "2026-11-27 10:31")[-1].text


def test_redelivered_event_is_handled_once(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    first = say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05", event_id="feishu:om_1")
    again = say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05", event_id="feishu:om_1")
    assert first and again == []
    state = dump(app.engine, app.projects[P], at("2026-11-27 09:06"))
    assert [(q["name"], q["counted"]) for q in state["queue"]] == [("王五", 0), ("李四", 1)]


def test_refused_event_redelivered_is_not_answered_twice(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    assert say(app, "王五", "接待", "2026-11-27 09:05", event_id="wechat:1")
    assert say(app, "王五", "接待", "2026-11-27 09:05", event_id="wechat:1") == []


def test_group_messages_never_show_a_full_phone(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    outs = []
    for when, who, text in [("09:05", "李四", "到访 张三 138 1234 5678"), ("09:06", "李四", "查客 13812345678"),
                            ("09:07", "李四", "成交 张三 +86 138-1234-5678 3套"), ("09:08", "李四", "/记录"),
                            ("09:09", "张经理", "/记录"), ("09:10", "王五", "查客 张三")]:
        outs += say(app, who, text, f"2026-11-27 {when}")
    group = [o.text for o in outs if o.to is None]
    assert group and not any(re.search(r"1\d{2}[\s-]?\d{4}[\s-]?\d{4}", t) for t in group)
    private = [o for o in outs if o.to == "张经理"]
    assert private and "13812345678" in private[0].text      # the big-order alert: a manager sees it


def test_my_customers_is_private_and_only_the_owner_sees_full_numbers(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05")
    mine = say(app, "李四", "我的客户", "2026-11-27 09:06")
    assert mine[0].to == "李四" and "13812345678" in mine[0].text
    theirs = say(app, "王五", "我的客户", "2026-11-27 09:07", private=True)
    assert theirs[0].to == "王五" and "1381234" not in theirs[0].text


def test_an_unexpected_error_is_an_apology_and_changes_nothing(app, monkeypatch):
    from handlers import commands as c
    from handlers import registry

    def boom(cmd, ctx):
        ctx.day.queue.clear()
        raise RuntimeError("disk on fire")

    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    before = snapshot(app, "2026-11-27 09:30")
    monkeypatch.setitem(registry.HANDLERS, c.Receive, boom)
    out = say(app, "李四", "接待", "2026-11-27 09:05")
    assert len(out) == 1 and "抱歉" in out[0].text and "disk" not in out[0].text
    assert snapshot(app, "2026-11-27 09:30") == before


def test_ordinary_chat_is_ignored_silently(app):
    assert say(app, "李四", "今天中午吃什么", "2026-11-27 09:05") == []
    assert say(app, "李四", "接待了一位客户,很满意", "2026-11-27 09:05") == []


def test_a_scheduled_message_claimed_but_never_marked_sent_is_sent_again_with_its_key(app):
    from datetime import timedelta
    say(app, "张经理", "/开班 李四 王五", "2026-11-27 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-27 09:05")
    due = app.run_due(at("2026-12-03 09:30"), P)          # the process "crashes" before mark_sent
    eve = [o for o in due if o.to == "李四" and "明天" in o.text]
    assert len(eve) == 1
    assert app.reclaim_unsent(at("2026-12-03 09:31")) == []          # too fresh: maybe still sending
    again = app.reclaim_unsent(at("2026-12-03 09:31") + timedelta(minutes=10))
    assert eve[0].key in {o.key for o in again} and all(o.key for o in again)
    app.mark_sent([o.key for o in again], at("2026-12-03 09:45"))
    assert app.reclaim_unsent(at("2026-12-03 11:00")) == []
