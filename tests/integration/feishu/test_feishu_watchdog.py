"""The watchdog against the Feishu fake (issue 21 item 2): the long connection stays open but goes silent
(no pong, no event). The adapter notices within the window, /readyz fails meanwhile, it reconnects in
place, the event Feishu could not deliver arrives on the new connection and is answered once, and what
waited in the outbox is delivered once."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from feishu_fake import CountingPort, message_event, wait_for

from bot import metrics
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import load_config
from bot.health import Health
from bot.sweep import sweep_once
from bot.watchdog import Watchdog
from handlers.messages import Outgoing
from tests.waits import patience

CONFIG = """\
timezone: Asia/Shanghai
projects:
  - name: 阳光花园
    managers: [{name: 张经理, feishu: ou_manager}]
    salespeople: [{name: 李四, feishu: ou_lisi}, {name: 王五, feishu: ou_wangwu}]
    chats: {feishu: [oc_group]}
"""
NOW = datetime(2026, 11, 27, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def core(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return bootstrap(load_config(path), db_url=f"sqlite:///{tmp_path / 'bot.db'}", clock=FakeClock(NOW))


def texts(fake, part: str) -> list[str]:
    return [t for t in fake.texts_to("oc_group") + fake.texts_to("ou_lisi") if part in t]


def reconnects() -> float:
    return metrics.REGISTRY.get_sample_value("reception_platform_reconnects_total",
                                             {"platform": "feishu", "reason": "watchdog"}) or 0


def test_a_deaf_long_connection_is_noticed_restarted_in_place_and_nothing_is_lost_or_doubled(fake, start_adapter, core):
    fake.client_config["PingInterval"] = 1                  # a heartbeat a second (Feishu: 120 s)
    window = patience(6.0)
    adapter = start_adapter(CountingPort(core))
    dog = Watchdog(window=window)
    dog.watch(adapter)
    health = Health(core.engine, FakeClock(NOW), dog)
    dog.start(every=0.5)
    try:
        fake.wait_connected()
        fake.push(message_event("/开班 李四 王五", sender="ou_manager", message_id="om_open"))
        wait_for(lambda: texts(fake, "开班"), what="the opening answered")
        wait_for(lambda: health.problems() == [], what="ready: heartbeats arrive")
        before = reconnects()

        fake.deafen()                                                       # open, and silent from now on
        frame = fake.push(message_event("接待", sender="ou_lisi", message_id="om_take"))     # held by Feishu
        core.outbox.store([Outgoing("提醒：今天 18:00 盘点", key="t:reminder", project="阳光花园")], NOW,
                          numbered=False)                                 # written, its sender died before sending
        problems = wait_for(health.problems, timeout=3 * window, what="/readyz failing on the deaf connection")
        assert problems[0].startswith("feishu: ")           # (the restart may follow at once: nothing else is sure)

        fake.wait_connected(count=2, timeout=3 * window)                   # restarted in place
        wait_for(lambda: any(m.event_id == "feishu:om_take" for m, _ in adapter.bot.results), what="the held event")
        wait_for(lambda: health.problems() == [], timeout=3 * window, what="ready again")
        assert reconnects() - before >= 1 and fake.connections >= 2      # (under heavy load, maybe twice)

        take = [o.key for m, outs in adapter.bot.results if m.event_id == "feishu:om_take" for o in outs]
        wait_for(lambda: core.sent(take) == set(take), what="the held event's answer sent and marked")
        fake.push(message_event("接待", sender="ou_lisi", message_id="om_take"), frame_id=frame)  # delivered again
        wait_for(lambda: [new for m, new in adapter.bot.accepted if m.event_id == "feishu:om_take"] == [True, False],
                 what="the repeat delivery stored as a repeat")
        deliver = lambda msgs: adapter.send_and_wait(msgs, 10)              # noqa: E731 (the sweep's send)
        later = NOW + timedelta(minutes=6)                                  # past the stored reminder's lease
        assert [o.key for o in sweep_once(core, deliver, later)] == ["t:reminder"]
        assert sweep_once(core, deliver, later + timedelta(minutes=6)) == []
        assert len([m for m, _ in adapter.bot.results if m.event_id == "feishu:om_take"]) == 1
        assert len(texts(fake, "李四 接待新客户")) == 1                      # the held event's answer, once
        assert len(texts(fake, "提醒")) == 1
    finally:
        dog.stop()
