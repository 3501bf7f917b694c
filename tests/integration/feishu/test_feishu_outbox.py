"""The outbox through the Feishu adapter, the real core and the fake Feishu server (issue 11 item 4):
a reply whose sender dies between send and mark is sent again with the same `uuid` (Feishu, and the
fake, keep it once); a reply that fails while Feishu is down arrives once after it recovers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from feishu_fake import CountingPort, message_event, wait_for
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import load_config
from bot.sweep import sweep_once
from storage import models as m
from storage.uow import UnitOfWork

CONFIG = """\
timezone: Asia/Shanghai
policy:
  preset: real_estate
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [{name: 张经理, feishu: ou_manager}]
    salespeople:
      - {name: 李四, feishu: ou_lisi}
      - {name: 王五, feishu: ou_wangwu}
    chats: {feishu: [oc_group]}
"""
NOW = datetime(2026, 11, 27, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
OPENED = "开班了"


@pytest.fixture
def core(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return bootstrap(load_config(path), db_url=f"sqlite:///{tmp_path / 'bot.db'}", clock=FakeClock(NOW))


def opening_sends(fake) -> list[dict]:
    return [r for r in fake.sent if OPENED in r["content"].get("text", "")]


def reply_row(app, key: str):
    with UnitOfWork(app.engine, readonly=True) as uow:
        return uow.session.execute(select(m.Outbox.attempts, m.Outbox.retry_at, m.Outbox.sent_at)
                                   .where(m.Outbox.key == key)).one()


def test_a_reply_sent_but_not_marked_when_the_sender_dies_is_sent_again_with_its_uuid_and_shown_once(
        fake, start_adapter, core):
    adapter = start_adapter(CountingPort(core))
    adapter._settle = lambda key, ok: None          # the process dies after Feishu took it, before the mark
    fake.wait_connected()
    fake.push(message_event("/开班 李四 王五", sender="ou_manager", message_id="om_open"))
    wait_for(lambda: opening_sends(fake), what="the reply sent")
    key = next(o.key for _, outs in adapter.bot.results for o in outs if OPENED in o.text)
    assert reply_row(core, key).sent_at is None

    def deliver(msgs):                              # the restarted process's sweep: the same adapter code
        return adapter.send_and_wait(msgs, 10)

    assert [o.key for o in sweep_once(core, deliver, NOW + timedelta(minutes=1))] == []      # within the lease
    again = sweep_once(core, deliver, NOW + timedelta(minutes=6))
    assert key in [o.key for o in again]
    tries = [a for a in fake.attempts if OPENED in a["content"].get("text", "")]
    assert len(tries) == 2 and tries[0]["uuid"] == tries[1]["uuid"]         # sent twice, the same uuid …
    assert len(opening_sends(fake)) == 1                                    # … and in the chat once
    assert reply_row(core, key).sent_at is not None
    assert sweep_once(core, deliver, NOW + timedelta(hours=2)) == []


def test_a_reply_that_fails_while_feishu_is_down_arrives_once_after_it_recovers(fake, start_adapter, core):
    adapter = start_adapter(CountingPort(core))
    adapter.sender._max_backoff = 0.01              # the sender's own quick retries, without the waits
    fake.wait_connected()
    down = (500, 1, "0")
    fake.fail_plan.extend([down] * 1000)            # Feishu is down (5xx) until the plan is cleared
    fake.push(message_event("/开班 李四 王五", sender="ou_manager", message_id="om_open"))
    wait_for(lambda: adapter.bot.results, what="the command handled")
    key = next(o.key for _, outs in adapter.bot.results for o in outs if OPENED in o.text)
    wait_for(lambda: reply_row(core, key).retry_at < NOW + timedelta(minutes=1), what="the failure recorded")
    assert opening_sends(fake) == []

    def deliver(msgs):
        return adapter.send_and_wait(msgs, 10)

    sweep_once(core, deliver, NOW + timedelta(seconds=31))          # still down: fails again, waits longer
    assert opening_sends(fake) == [] and reply_row(core, key).attempts == 2
    fake.fail_plan.clear()                                          # Feishu is back
    assert sweep_once(core, deliver, NOW + timedelta(seconds=62)) == []      # not before its backoff
    sweep_once(core, deliver, NOW + timedelta(minutes=3))
    sweep_once(core, deliver, NOW + timedelta(hours=1))
    assert len(opening_sends(fake)) == 1 and opening_sends(fake)[0]["receive_id"] == "oc_group"
    assert reply_row(core, key).sent_at is not None
