"""Issue 11 §3 and §5: the bot's own clock, bounded catch-ups, and what is said after downtime."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event

from bot import scheduled
from bot.bootstrap import bootstrap
from bot.cli import main
from bot.clock import FakeClock
from handlers.messages import Incoming
from handlers.state_view import dump
from tests.conftest import at, fixed

P = "阳光花园"


def say(app, who, text, when):
    """A message to a bot that sends what it answers (marked sent, as `say` and the console do)."""
    outs = app.handle(Incoming("console", who, text, at(when), project=P))
    app.mark_sent([o.key for o in outs], at(when))
    return outs


def unsent(app) -> list[tuple[str, str | None, str | None]]:
    """(key, kind, day) of every outbox row neither sent, given up nor dropped."""
    from sqlalchemy import select

    from storage import models as m
    from storage.uow import UnitOfWork
    ob = m.Outbox
    with UnitOfWork(app.engine, readonly=True) as uow:
        q = select(ob.key, ob.kind, ob.day).where(ob.sent_at.is_(None), ob.failed_at.is_(None), ob.dropped_at.is_(None))
        return [(k, kind, f"{d:%m-%d}" if d else None) for k, kind, d in uow.session.execute(q)]


@pytest.fixture
def app(config_file):
    return bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-20 08:00")))


def cli(config_file, db, *argv):
    return main([argv[0], "--config", str(config_file()), "--db", db, *argv[1:]])


# ---- time: say / replay / run --------------------------------------------------------------
def test_say_refuses_a_time_before_the_projects_last_change_in_one_line(config_file, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/r.db"
    assert cli(config_file, db, "say", "--at", "2026-11-27 09:10", "张经理", "/开班 李四 王五") == 0
    before = capsys.readouterr()
    assert cli(config_file, db, "say", "--at", "2026-11-26 09:10", "李四", "签到") == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1 and "Traceback" not in out.err
    assert "早于" in out.err and "2026-11-27 09:10" in out.err
    assert cli(config_file, db, "say", "--at", "2026-11-27 09:11", "李四", "轮排") == 0      # today still works
    assert "下一位:李四" in capsys.readouterr().out and before.out


def test_replay_refuses_a_transcript_earlier_than_the_database(config_file, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/r.db"
    assert cli(config_file, db, "say", "--at", "2026-11-27 09:10", "张经理", "/开班 李四 王五") == 0
    script = tmp_path / "old.txt"
    script.write_text("[2026-11-20 09:00] 张经理: /开班 赵六\n", encoding="utf-8")
    capsys.readouterr()
    assert cli(config_file, db, "replay", str(script)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "早于" in err


def test_a_catch_up_over_31_days_needs_the_flag_on_say_and_replay(config_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bot.transcript.REAL", FakeClock(at("2062-01-02 00:00")))   # none of these times is ahead
    db = f"sqlite:///{tmp_path}/r.db"
    assert cli(config_file, db, "say", "--at", "2026-11-27 09:10", "张经理", "/开班 李四 王五") == 0
    capsys.readouterr()
    assert cli(config_file, db, "say", "--at", "2062-01-01 09:10", "李四", "签到") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--catch-up" in err and "Traceback" not in err
    script = tmp_path / "later.txt"
    script.write_text("[2027-02-01 09:30] 李四: 签到\n", encoding="utf-8")
    assert cli(config_file, db, "replay", str(script)) == 2 and "--catch-up" in capsys.readouterr().err
    assert cli(config_file, db, "say", "--at", "2026-12-20 09:30", "李四", "签到") == 0      # 23 days: fine
    assert cli(config_file, db, "say", "--at", "2027-02-01 09:30", "--catch-up", "李四", "签到") == 0
    assert "签到" in capsys.readouterr().out


def test_run_refuses_to_start_over_31_days_behind_without_the_flag(config_file, tmp_path, capsys, monkeypatch):
    db = f"sqlite:///{tmp_path}/r.db"
    bootstrap(config_file(), db_url=db, clock=FakeClock(at("2020-01-01 08:00")))     # last ran in 2020
    for var in ("FEISHU_APP_ID", "WECHATY_PUPPET_SERVICE_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    assert cli(config_file, db, "run", "--at", "2026-12-02 14:00") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--catch-up" in err


def test_no_transaction_runs_more_than_a_batch_of_scheduled_steps(app, monkeypatch):
    """100 days of late work: every transaction does at most BATCH steps, and commits between them."""
    steps_in: Counter = Counter()
    real = scheduled.Scheduled._jobs_at

    def counting(self, uow, *a, **kw):
        steps_in[uow] += 1                  # (keyed by the object: it stays alive, its id is not reused)
        return real(self, uow, *a, **kw)

    monkeypatch.setattr(scheduled.Scheduled, "_jobs_at", counting)
    commits = []
    event.listen(app.engine, "commit", lambda conn: commits.append(1))
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    out = app.run_due(at("2027-02-28 10:00"), P)
    assert sum(steps_in.values()) >= 200                      # an opening and a 日报 a day
    assert max(steps_in.values()) <= scheduled.BATCH and len(commits) >= len(steps_in)
    assert len([o for o in out if o.to is None]) == 2        # today's greeting and the catch-up line


# ---- downtime ------------------------------------------------------------------------------
def test_after_downtime_past_greetings_and_summaries_are_not_posted_one_catch_up_line_is(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 09:05")
    say(app, "李四", "送客", "2026-11-20 09:30")                   # valid until 11-27 24:00
    # the bot is down from 11-20 10:00 until 11-28 10:00
    out = app.run_due(at("2026-11-28 10:00"), P)
    group = [(f"{o.at.astimezone(at('2026-11-20 00:00').tzinfo):%m-%d %H:%M}", o.text) for o in out if o.to is None]
    assert [t for _, t in group if "日报" in t] == []                    # no 日报 of a past day
    assert [w for w, t in group if "开班" in t] == ["11-28 09:00"]        # only today's greeting
    catch_up = [t for _, t in group if "离线" in t]
    private = [o for o in out if o.to is not None]
    # reminders still follow RULES §7: the last-day one (11-27) is stale after the deadline and
    # dropped, the day-before one (11-26) too; the lapse notice to the owner and the manager goes out
    assert sorted(o.to for o in private) == ["张经理", "李四"] and all("公客" in o.text for o in private)
    assert catch_up == [f"机器人离线 8 天，已补发提醒 {len(private)} 条。"]
    assert app.run_due(at("2026-11-28 10:05"), P) == []                     # said once


def test_a_days_announcements_left_unsent_by_a_killed_process_are_dropped_and_the_catch_up_line_says_so(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    say(app, "李四", "到访 张三 13812345678", "2026-11-20 09:05")
    say(app, "李四", "送客", "2026-11-20 09:30")                    # valid until 11-27 24:00
    left = app.run_due(at("2026-11-26 09:00"), P)                   # a process that is killed before sending
    kinds = sorted({o.kind for o in left})
    assert kinds == ["catch_up", "greeting", "reminder"] and unsent(app)
    assert {day for _, _, day in unsent(app)} == {"11-26"}
    # the next process starts a day later: its sweep (due work, then re-sends) sends nothing of 11-26 …
    out = app.run_due(at("2026-11-27 10:00"), P)
    assert not [o for o in out if o.at.astimezone(left[0].at.tzinfo).day == 26]
    assert app.reclaim_unsent(at("2026-11-27 10:00")) == []
    # … and today's catch-up line says what was dropped
    [line] = [o.text for o in out if o.kind == "catch_up"]
    assert line.endswith("停机前没发出的开班通知 1 条、到期提醒 1 条、离线说明 1 条已过期，不再补发。"), line
    app.mark_sent([o.key for o in out], at("2026-11-27 10:00"))        # today's went out
    assert unsent(app) == [] and app.reclaim_unsent(at("2026-11-27 10:30")) == []


def test_an_unsent_reply_or_lapse_notice_is_still_sent_the_next_day(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    app.handle(Incoming("console", "李四", "到访 张三 13812345678", at("2026-11-20 09:05"), project=P))
    [(key, kind, day)] = unsent(app)                                   # a reply the process never sent
    assert (kind, day) == ("reply", "11-20")
    assert [o.key for o in app.reclaim_unsent(at("2026-11-21 09:30"))] == [key]


def test_say_marks_its_lines_sent_before_it_prints_them(config_file, tmp_path, capsys, monkeypatch):
    from bot import cli
    db = f"sqlite:///{tmp_path}/r.db"
    printed_unmarked = []
    real_print = print

    def spying_print(*a, **k):                                  # each printed line's row is already sent
        if a and str(a[0]).startswith("["):
            from bot.bootstrap import bootstrap
            again = bootstrap(config_file(), db_url=db, clock=fixed())
            printed_unmarked.extend(unsent(again))
        real_print(*a, **k)

    monkeypatch.setattr(cli, "print", spying_print, raising=False)
    assert cli.main(["say", "--config", str(config_file()), "--db", db, "--at", "2026-12-02 09:05", "张经理",
                     "/开班 李四 王五"]) == 0
    assert "开班" in capsys.readouterr().out and printed_unmarked == []


def test_a_command_after_downtime_brings_the_catch_up_line_with_its_reply(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    out = say(app, "李四", "签到", "2026-11-22 10:00")
    texts = [o.text for o in out if o.to is None]
    assert [t for t in texts if "日报" in t] == []
    assert [t for t in texts if "开班" in t and "11-22" in t] and not [t for t in texts if "11-21 开班" in t]
    assert "机器人离线 2 天，已补发提醒 0 条。" in texts
    assert dump(app.engine, app.projects[P], at("2026-11-22 10:00"))["date"] == "2026-11-22"


def test_a_short_gap_inside_the_day_is_not_downtime(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    out = app.run_due(at("2026-11-20 18:30"), P)                   # the 日报 is late by 30 minutes
    assert [o.text for o in out if "日报" in o.text] and not [o for o in out if "离线" in o.text]


def test_back_inside_the_quiet_hours_no_catch_up_line_is_pushed(app):
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")
    out = app.run_due(at("2026-11-22 07:00"), P)             # back at 07:00: quiet until 08:30
    assert [o for o in out if o.to is None] == []


def test_an_event_is_refused_only_when_older_than_the_id_retention(app):
    from datetime import timedelta
    now = at("2026-11-20 09:10")
    ok = Incoming("console", "李四", "签到", now, project=P, event_id="feishu:om_29", sent_at=now - timedelta(days=29))
    old = Incoming("console", "王五", "签到", now, project=P, event_id="feishu:om_31", sent_at=now - timedelta(days=31))
    assert app.handle(ok) and app.handle(old) == []
    presence = {q["name"]: q["presence"] for q in dump(app.engine, app.projects[P], now)["queue"]}
    assert presence["李四"] == "available" and presence["王五"] != "available"


def test_stale_messages_are_looked_for_once_a_day_per_project_and_again_the_next_day(app):
    looked: list[str] = []
    event.listen(app.engine, "before_cursor_execute",
                 lambda *a: looked.append(a[2]) if "outbox.kind" in a[2] and "count(" in a[2] else None)
    say(app, "张经理", "/开班 李四 王五", "2026-11-20 09:00")       # the day's first catch-up: looked for
    say(app, "李四", "接待", "2026-11-20 09:05")
    say(app, "王五", "接待", "2026-11-20 09:10")
    nudges = app.run_due(at("2026-11-20 11:06")) + app.run_due(at("2026-11-20 11:11"))   # two more catch-ups
    assert len(nudges) == 2 and len(looked) == 1
    app.run_due(at("2026-11-21 09:00"))                         # the next day's opening: looked for again
    assert len(looked) == 2
