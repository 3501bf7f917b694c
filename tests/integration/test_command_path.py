"""The command path keeps two things in memory (issue 23): each project's next due time and its
roster. Both stay right when another process (here: a second App on the same database) changes them."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import load_config
from handlers.messages import Incoming
from rules import texts as T
from tests.conftest import at

P = "阳光花园"


@pytest.fixture
def two(db_url, config_file):
    """Two processes' Apps on one database."""
    cfg = load_config(config_file())
    return [bootstrap(cfg, db_url=db_url, clock=FakeClock(at("2026-11-27 08:00"))) for _ in range(2)]


def say(app, who: str, text: str, when: str) -> list[str]:
    return [o.text for o in app.handle(Incoming("console", who, text, at(when), project=P))]


def test_a_member_added_by_another_process_is_on_the_roster_of_the_next_command(two):
    a, b = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")              # a reads (and keeps) the roster
    assert any(T.ROSTER_ADDED.format(name="孙八") in t for t in say(b, "张经理", "/成员 添加 孙八", "2026-11-27 09:02"))
    assert any(T.SIGNED_IN_TAIL.format(me="孙八") in t or T.SIGNED_IN.format(me="孙八") in t
               for t in say(a, "孙八", "签到", "2026-11-27 09:03"))


def test_a_member_removed_by_another_process_is_refused_by_the_next_command(two):
    a, b = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")
    say(b, "张经理", "/成员 移除 王五", "2026-11-27 09:02")
    assert any(T.NOT_ON_ROSTER.format(name="王五") in t for t in say(a, "王五", "签到", "2026-11-27 09:03"))


def test_a_roster_change_in_this_process_is_seen_by_its_next_command(two):
    a, _ = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")
    say(a, "张经理", "/成员 添加 孙八", "2026-11-27 09:02")
    assert not any(T.NOT_ON_ROSTER.format(name="孙八") in t for t in say(a, "孙八", "签到", "2026-11-27 09:03"))


def test_a_reminder_set_by_another_process_goes_out_with_the_next_command_here(two):
    a, b = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    for who in ("李四", "王五"):
        say(a, who, "签到", "2026-11-27 09:01")            # a now knows its next due time: none before 18:00
    say(b, "李四", "接待", "2026-11-27 09:05")              # b: a reception, its over-time nudge at 11:05
    out = say(a, "王五", "轮排", "2026-11-27 11:10")
    assert any(t.startswith(T.NUDGE.format(minutes=120, since="09:05")[:10]) for t in out)
    assert len([t for t in say(a, "王五", "轮排", "2026-11-27 11:20") if "超过 120 分钟" in t]) == 0


def test_a_command_with_nothing_due_runs_in_one_transaction(two):
    a, _ = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")
    begins = []
    event.listen(a.engine, "begin", lambda conn: begins.append(1))
    say(a, "王五", "签到", "2026-11-27 09:02")
    assert len(begins) == 1


def test_after_downtime_the_command_still_catches_up_first(two):
    a, _ = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    out = say(a, "李四", "签到", "2026-11-30 10:00")          # three days later: the catch-up comes first
    assert out[-1].startswith(T.SIGNED_IN.format(me="李四")[:3])
    assert any(t.startswith(T.CATCH_UP.format(days=3, n=0)) for t in out[:-1])


def test_the_roster_version_migration_goes_down_and_up_again_keeping_the_projects(db_url):
    from alembic import command
    from sqlalchemy import inspect, text

    from storage.db import make_engine, migrate
    from tests.integration.test_migrations import _alembic, _version
    engine = make_engine(db_url)
    migrate(engine)
    head = _version(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (name, state, roster_version) VALUES ('甲', '{}', 7)"))
    _alembic(engine, "0013_customer_phones", command.downgrade)
    assert "roster_version" not in {c["name"] for c in inspect(engine).get_columns("projects")}
    migrate(engine)                                     # the production upgrade
    assert _version(engine) == head
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, roster_version FROM projects")).all() == [("甲", 0)]
    engine.dispose()


def test_starting_again_with_the_same_config_changes_no_row(db_url, config_file):
    """Config sync at every start sets each member's role and ids to what they are: no roster_version bump,
    so a process killed after its start-up but before its command leaves the database exactly as it was."""
    from sqlalchemy import create_engine, text
    bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-27 08:00")))
    engine = create_engine(db_url)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT name, roster_version, state FROM projects")).all()
    bootstrap(config_file(), db_url=db_url, clock=FakeClock(at("2026-11-27 08:05")))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, roster_version, state FROM projects")).all() == first
    engine.dispose()


def _probes(app) -> list[str]:
    seen: list[str] = []
    event.listen(app.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_commands_with_the_next_due_time_kept_run_no_probe(two):
    a, _ = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")
    seen = _probes(a)
    say(a, "王五", "签到", "2026-11-27 09:02")
    say(a, "李四", "到访 陈明 13812345678", "2026-11-27 09:03")     # a nudge and a customer reminder, set
    say(a, "李四", "跟进 13812345678 电话", "2026-11-27 09:04")     # the reminder moves later: nothing sooner
    assert seen and not [s for s in seen if "min(" in s]


def test_ending_the_soonest_reception_reads_the_next_due_time_again(two):
    a, _ = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    for who in ("李四", "王五"):
        say(a, who, "签到", "2026-11-27 09:01")
    say(a, "李四", "接待", "2026-11-27 09:05")                 # nudge at 11:05
    say(a, "王五", "接待", "2026-11-27 09:10")                 # nudge at 11:10
    seen = _probes(a)
    say(a, "李四", "送客", "2026-11-27 09:20")                 # the soonest nudge is gone
    assert len([s for s in seen if "min(" in s]) == 1
    assert a.scheduled.known[P].at == at("2026-11-27 11:10")
    out = say(a, "王五", "轮排", "2026-11-27 11:11")
    assert any(t.startswith(T.NUDGE.format(minutes=120, since="09:10")[:10]) for t in out)


def test_a_reminder_brought_sooner_bumps_the_due_version_and_one_moved_later_does_not(two):
    a, b = two
    say(a, "张经理", "/开班", "2026-11-27 09:00")
    say(a, "李四", "签到", "2026-11-27 09:01")
    v0 = a.scheduled.known[P].version
    say(a, "李四", "到访 陈明 13812345678", "2026-11-27 09:03")
    v1 = a.scheduled.known[P].version
    say(a, "李四", "跟进 13812345678 电话", "2026-11-27 09:30")
    assert (v1, a.scheduled.known[P].version) == (v0 + 1, v1)
    seen = _probes(b)                                          # b kept nothing: it reads once, then keeps it
    say(b, "李四", "轮排", "2026-11-27 09:31")
    say(b, "李四", "轮排", "2026-11-27 09:32")
    assert b.scheduled.known[P] == a.scheduled.known[P]
    assert len([s for s in seen if "min(" in s]) == 1


def _feishu(app, sender: str, text: str, when: str, private: bool = False) -> list[str]:
    return [o.text for o in app.handle(Incoming("feishu", sender, text, at(when), chat_id=None if private else "oc_1",
                                                private=private))]


@pytest.fixture
def linked(two):
    """李四's feishu account linked and the group bound, in process a."""
    from bot.identity import issue_code
    a, b = two
    code = issue_code(a.engine, P, "张经理", at("2026-11-27 08:30"))
    _feishu(a, "ou_boss", f"我是 张经理 {code}", "2026-11-27 08:31", private=True)
    _feishu(a, "ou_boss", f"/绑定 {P}", "2026-11-27 08:32")
    _feishu(a, "ou_li", "我是 李四", "2026-11-27 08:33", private=True)
    _feishu(a, "ou_boss", "/确认 李四", "2026-11-27 08:34", private=True)
    _feishu(a, "ou_boss", "/开班", "2026-11-27 09:00")
    return a, b


def test_a_remembered_sender_is_not_looked_up_again_however_long_ago(linked):
    a, _ = linked
    _feishu(a, "ou_li", "签到", "2026-11-27 09:01")
    seen = _probes(a)
    out = _feishu(a, "ou_li", "暂离", "2026-11-27 15:01")                  # hours later: still 李四
    assert out and out[0].startswith("李四") and T.UNKNOWN_SENDER not in out
    assert not [s for s in seen if "chat_bindings" in s or "members.feishu_id" in s]


def test_a_sender_removed_by_another_process_is_looked_up_again_at_their_next_message(linked):
    a, b = linked
    _feishu(a, "ou_li", "签到", "2026-11-27 09:01")                          # a remembers ou_li as 李四
    say(b, "张经理", "/成员 移除 李四", "2026-11-27 09:02")
    assert _feishu(a, "ou_li", "暂离", "2026-11-27 09:03") == [T.UNKNOWN_SENDER]


def test_due_work_run_before_the_sender_is_looked_up_again_is_still_answered(linked):
    a, b = linked
    _feishu(a, "ou_li", "签到", "2026-11-27 09:01")
    say(a, "王五", "签到", "2026-11-27 09:02")
    _feishu(a, "ou_li", "暂离", "2026-11-27 09:03")                          # 王五's turn
    assert say(a, "王五", "接待", "2026-11-27 09:05")[0].startswith("王五 接待")   # its nudge at 11:05
    say(b, "张经理", "/成员 移除 李四", "2026-11-27 09:10")
    out = _feishu(a, "ou_li", "回来", "2026-11-27 11:10")                   # the nudge first, then who?
    assert out[-1] == T.UNKNOWN_SENDER
    assert [t for t in out[:-1] if t.startswith(T.NUDGE.format(minutes=120, since="09:05")[:10])]


def test_binding_a_chat_moves_the_roster_version_of_its_project(linked):
    from sqlalchemy import select

    from storage import models as m
    from storage.uow import UnitOfWork
    a, _ = linked

    def version() -> int:
        with UnitOfWork(a.engine, readonly=True) as uow:
            return uow.session.scalar(select(m.Project.roster_version).where(m.Project.name == P))
    before = version()
    _feishu(a, "ou_boss", f"/绑定 {P}", "2026-11-27 09:05")                   # the same binding: no change
    assert version() == before
    with UnitOfWork(a.engine) as uow:
        uow.projects.bind("feishu", "oc_2", uow.projects.id_of(P))
        uow.commit()
    assert version() == before + 1


def test_marking_replies_sent_is_one_statement_and_nothing_for_none(two):
    a, _ = two
    out = a.handle(Incoming("console", "张经理", "/开班", at("2026-11-27 09:00"), project=P))
    seen: list[str] = []
    event.listen(a.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    a.mark_sent([o.key for o in out], at("2026-11-27 09:00"))
    assert [s.split()[0] for s in seen if not s.startswith(("BEGIN", "COMMIT"))] == ["UPDATE"]
    seen.clear()
    a.mark_sent([], at("2026-11-27 09:00"))                   # a command without replies: no transaction
    assert seen == []
    with a.uows() as uow:
        assert uow.outbox.sent_keys([o.key for o in out]) == {o.key for o in out}


IDS_CONFIG = """
timezone: Asia/Shanghai
policy: {preset: real_estate}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [{name: 张经理, feishu: ou_boss}]
    salespeople: [{name: 李四, feishu: ou_li}, {name: 王五, feishu: ou_wang}, 赵六, 钱七]
    chats: {feishu: [oc_1]}
  - name: 碧水湾
    shift: {start: "09:00", end: "18:00"}
    managers: [{name: 孙经理, feishu: ou_sun}]
    salespeople: [{name: 周八, feishu: ou_zhou}]
    chats: {feishu: [oc_2]}
"""


@pytest.fixture
def ids(db_url, tmp_path):
    """Two processes' Apps; accounts and chats given in config.yaml."""
    path = tmp_path / "ids.yaml"
    path.write_text(IDS_CONFIG, encoding="utf-8")
    cfg = load_config(path)
    return [bootstrap(cfg, db_url=db_url, clock=FakeClock(at("2026-11-27 08:00"))) for _ in range(2)]


def _in(app, sender: str, chat: str | None, text: str, when: str) -> list[str]:
    return [o.text for o in app.handle(Incoming("feishu", sender, text, at(when), chat_id=chat, private=chat is None))]


def test_the_first_messages_of_many_senders_read_who_they_are_once(ids):
    a, _ = ids
    seen = _probes(a)
    _in(a, "ou_boss", "oc_1", "/开班", "2026-11-27 09:00")
    outs = [_in(a, s, chat, "签到", "2026-11-27 09:01") for s, chat in
            [("ou_li", "oc_1"), ("ou_wang", "oc_1"), ("ou_zhou", "oc_2")]]
    assert [[t.split()[0] for t in o if t.split()[0] in ("李四", "王五", "周八")] for o in outs] == [
        ["李四"], ["王五"], ["周八"]]
    assert len([s for s in seen if "FROM members JOIN projects" in s]) == 1      # one read, not one per sender
    assert not [s for s in seen if "members.feishu_id = " in s]


def test_a_sender_linked_by_another_process_after_the_read_is_still_found(ids):
    a, b = ids
    _in(a, "ou_li", "oc_1", "签到", "2026-11-27 09:01")                     # a has read every account
    _in(b, "ou_zhao", None, "我是 赵六", "2026-11-27 09:02")
    _in(b, "ou_boss", None, "/确认 赵六", "2026-11-27 09:03")
    assert _in(a, "ou_zhao", "oc_1", "签到", "2026-11-27 09:04")[0].startswith("赵六")


def test_an_account_that_speaks_for_another_member_now_is_taken_for_them(ids):
    a, b = ids
    _in(b, "ou_x", None, "我是 赵六", "2026-11-27 09:00")
    _in(b, "ou_boss", None, "/确认 赵六", "2026-11-27 09:01")
    assert _in(a, "ou_x", "oc_1", "签到", "2026-11-27 09:02")[0].startswith("赵六")     # a read it so
    _in(b, "ou_boss", None, "/成员 移除 赵六", "2026-11-27 09:03")
    _in(b, "ou_x", None, "我是 钱七", "2026-11-27 09:04")
    _in(b, "ou_boss", None, "/确认 钱七", "2026-11-27 09:05")
    assert _in(a, "ou_x", "oc_1", "签到", "2026-11-27 09:06")[0].startswith("钱七")
