"""One outbox for every outgoing message (issue 11 item 4, RULES §7: every message is sent exactly once).

The adapters here are the real ones' contract: send what `handle`/the sweep return, then mark each
sent or failed (bot/sweep.py `settle`, `sweep_once`)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import load_config
from bot.outbox import MAX_ATTEMPTS
from bot.sweep import settle, sweep_once
from handlers.messages import Incoming
from storage import models as m
from storage.uow import UnitOfWork
from tests.conftest import at

P = "阳光花园"
OPENED = "早上好！11-27 开班"


@pytest.fixture
def app(db_url, config_file):
    from bot.config import load_config as load
    return bootstrap(load(config_file()), db_url=db_url, clock=FakeClock(at("2026-11-27 08:00")))


class Console:
    """Prints (records) every message; `broken` makes every send fail (the platform is down)."""

    def __init__(self):
        self.seen, self.broken = [], False

    def __call__(self, msgs):
        if self.broken:
            raise ConnectionError("platform down")
        self.seen += msgs
        return set()


def command(app, out: Console, who: str, text: str, when, private=False):
    msgs = app.handle(Incoming("console", who, text, when, private=private, project=P))
    settle(app, msgs, out, when)
    return msgs


def test_the_opening_that_goes_out_with_a_command_is_not_sent_again_by_the_sweep(app):
    out = Console()
    msgs = command(app, out, "李四", "签到", at("2026-11-27 09:00") + timedelta(seconds=30))
    assert [o.text.startswith(OPENED) for o in msgs] == [True, False]       # due work first, then the reply
    for when in ("2026-11-27 09:05", "2026-11-27 09:06", "2026-11-27 10:00", "2026-11-27 12:00"):
        sweep_once(app, out, at(when))
    assert sum(o.text.startswith(OPENED) for o in out.seen) == 1
    assert sum("签到成功" in o.text for o in out.seen) == 1


def test_a_reply_not_marked_sent_because_the_sender_died_is_sent_again_with_the_same_key(app):
    msgs = app.handle(Incoming("console", "李四", "签到", at("2026-11-27 09:10"), project=P))   # then: killed
    reply = [o for o in msgs if "签到成功" in o.text]
    out = Console()
    assert sweep_once(app, out, at("2026-11-27 09:12")) == []       # within the lease: maybe still sending
    again = sweep_once(app, out, at("2026-11-27 09:16"))
    assert [o.key for o in again if "签到成功" in o.text] == [reply[0].key]
    assert [o.text for o in again if o.key == reply[0].key] == [reply[0].text]
    assert sweep_once(app, out, at("2026-11-27 11:00")) == []        # marked sent now: never again


def test_a_reply_whose_send_failed_arrives_once_after_the_platform_recovers(app):
    out = Console()
    out.broken = True
    command(app, out, "李四", "签到", at("2026-11-27 09:10"))
    for minutes in (11, 12, 14):                        # still down: each retry waits longer (backoff)
        sweep_once(app, out, at("2026-11-27 09:10") + timedelta(minutes=minutes))
    assert out.seen == []
    out.broken = False
    for hour in ("10:00", "10:30", "12:00"):
        sweep_once(app, out, at(f"2026-11-27 {hour}"))
    assert sum("签到成功" in o.text for o in out.seen) == 1


def test_failed_sends_are_retried_with_growing_waits_and_the_same_key(app):
    out = Console()
    out.broken = True
    msgs = command(app, out, "李四", "签到", at("2026-11-27 09:10"))
    key = next(o.key for o in msgs if "签到成功" in o.text)
    tries, t = [], at("2026-11-27 09:10")
    for _ in range(60):
        t += timedelta(seconds=30)
        if any(o.key == key for o in sweep_once(app, out, t)):
            tries.append(t)
    gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
    assert len(tries) >= 3 and gaps == sorted(gaps) and gaps[-1] > gaps[0]


def test_after_the_bounded_attempts_the_managers_are_told_once_in_private(app):
    out = Console()
    command(app, out, "李四", "签到", at("2026-11-27 09:05"))
    out.broken = True
    msgs = command(app, out, "李四", "到访 张三 13812345678", at("2026-11-27 09:10"))
    key = next(o.key for o in msgs if o.to is None and "张三" in o.text)
    tries, notices, t = 1, [], at("2026-11-27 09:10")
    for _ in range(40):
        t += timedelta(minutes=31)
        got = sweep_once(app, out, t)
        tries += sum(o.key == key for o in got)
        notices += [o for o in got if o.key.startswith(key + ":") and "未发出" in o.text]
        out.broken = not notices            # the platform is back (the notice's first send failed too)
    assert tries == MAX_ATTEMPTS
    assert {(o.key, o.to) for o in notices} == {(key + ":undelivered:张经理", "张经理")}
    text = notices[0].text
    assert "\n" not in text and "重试" in text and "13812345678" not in text
    assert sum(o.key.startswith(key + ":") for o in out.seen) == 1         # the notice went out once
    with UnitOfWork(app.engine, readonly=True) as uow:
        failed_at, sent_at = uow.session.execute(select(m.Outbox.failed_at, m.Outbox.sent_at)
                                                 .where(m.Outbox.key == key)).one()
    assert failed_at is not None and sent_at is None


def test_console_keys_are_unique_when_one_person_sends_two_commands_in_the_same_second(app):
    out = Console()
    when = at("2026-11-27 09:10")
    a = command(app, out, "李四", "签到", when)
    b = command(app, out, "李四", "轮排", when)
    keys = [o.key for o in a + b]
    assert len(keys) == len(set(keys)) and any("轮排" in o.text or "李四" in o.text for o in b)


def test_a_refused_command_s_reply_is_in_the_outbox_and_sent_once(app):
    out = Console()
    msgs = command(app, out, "李四", "/开班 李四", at("2026-11-27 09:10"))      # managers only
    assert msgs and all(o.key for o in msgs)
    sweep_once(app, out, at("2026-11-27 10:00"))
    assert len([o for o in out.seen if o.key == msgs[-1].key]) == 1


def test_a_redelivered_platform_event_does_not_write_its_reply_twice(db_url, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("""
timezone: Asia/Shanghai
policy: {preset: real_estate}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [{name: 张经理, wechat: wx_m}]
    salespeople: [{name: 李四, wechat: wx_l}]
    chats: {wechat: [room1]}
""", encoding="utf-8")
    app = bootstrap(load_config(path), db_url=db_url, clock=FakeClock(at("2026-11-27 08:00")))
    msg = Incoming("wechat", "wx_l", "帮助", at("2026-11-27 09:10"), chat_id="room1", event_id="wechat:m1")
    first, second = app.handle(msg), app.handle(msg)
    assert first and second == []
    reply = [o for o in first if o.key.startswith("wechat:m1:")]
    assert [(o.platform, o.chat_id) for o in reply] == [("wechat", "room1")]      # sent again: the same chat


def test_a_command_s_replies_are_written_in_one_statement_and_a_taken_key_is_numbered_or_dropped(app):
    from sqlalchemy import event

    from handlers.messages import Outgoing
    now = at("2026-11-27 09:10")
    msgs = [Outgoing("一", key="k:ok", project=P), Outgoing("二", to="李四", key="k:x0", project=P),
            Outgoing("三", key="k:ok", project=P)]                     # (a key twice in one write)
    seen: list[str] = []
    event.listen(app.engine, "before_cursor_execute", lambda _c, _cur, stmt, *_: seen.append(stmt))
    with app.uows() as uow:
        uow.lock_project(P)
        seen.clear()
        first = app.outbox.write(uow, msgs[:2], now, numbered=True)
        assert len([s for s in seen if s.startswith("INSERT INTO outbox")]) == 1
        again = app.outbox.write(uow, msgs, now, numbered=True)             # every key taken: numbered
        dropped = app.outbox.write(uow, msgs[:2], now, numbered=False)      # a repeat delivery: dropped
        uow.commit()
    assert [(o.key, o.text) for o in first] == [("k:ok", "一"), ("k:x0", "二")]
    assert [(o.key, o.text) for o in again] == [("k#2:ok", "一"), ("k#2:x0", "二"), ("k#3:ok", "三")]
    assert dropped == []
    with app.uows(readonly=True) as uow:
        rows = uow.session.execute(select(m.Outbox.key, m.Outbox.text).order_by(m.Outbox.key)).all()
    assert sorted(rows) == sorted([("k:ok", "一"), ("k:x0", "二"), ("k#2:ok", "一"), ("k#2:x0", "二"),
                                   ("k#3:ok", "三")])
