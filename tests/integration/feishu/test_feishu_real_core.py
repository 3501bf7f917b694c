"""End to end with the real core (bot.bootstrap) behind the Feishu adapter and the fake Feishu server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from feishu_fake import CountingPort, message_event, wait_for

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
      - {name: 赵六, feishu: ou_zhaoliu}
      - {name: 钱七, feishu: ou_qianqi}
    chats: {feishu: [oc_group]}
"""
NOW = datetime(2026, 11, 27, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_real_core_group_command_and_duplicate(fake, start_adapter, tmp_path):
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    port = CountingPort(bootstrap(load_config(path), db_url=f"sqlite:///{tmp_path}/r.db", clock=FakeClock(NOW)))
    start_adapter(port)                             # handled at the bot's time, whatever the event says
    fake.wait_connected()
    ms = int(NOW.timestamp() * 1000)

    fake.push(message_event("/开班 李四 王五 赵六", sender="ou_manager", message_id="om_open", create_ms=ms))
    visit = message_event(
        "到访 张三 13812345678", sender="ou_lisi", message_id="om_visit", create_ms=ms + 60_000
    )
    fake.push(visit)
    fake.push(visit)  # redelivered by Feishu
    fake.push(message_event("轮排", sender="ou_wangwu", message_id="om_board", create_ms=ms + 120_000))

    wait_for(lambda: len(port.results) == 3, what="three handle() calls")
    expected = sum(len(outs) for _, outs in port.results)
    wait_for(lambda: len(fake.sent) == expected, what=f"{expected} messages sent")
    assert [(m.event_id, new) for m, new in port.accepted] == [
        ("feishu:om_open", True), ("feishu:om_visit", True), ("feishu:om_visit", False), ("feishu:om_board", True)]
    assert [m.event_id for m, _ in port.results] == ["feishu:om_open", "feishu:om_visit", "feishu:om_board"]
    assert port.results[1][1]  # handled once, with its answer
    replies = [m for m in fake.sent if "138****5678" in m["content"].get("text", "")]
    assert len(replies) == 1 and replies[0]["receive_id"] == "oc_group"
    assert '<at user_id="ou_wangwu"></at>' in replies[0]["content"]["text"]  # 下一位:王五, mentioned


def test_event_time_is_not_trusted_future_events_run_at_arrival_old_ones_are_dropped(fake, start_adapter, tmp_path,
                                                                                      caplog):
    """Issue 11 §3: a signed event dated 10 years ahead is handled at the time it arrives (no decade of
    scheduled work, no opening moved to 2036); one older than the 30-day id retention is dropped."""
    from sqlalchemy import func, select

    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config
    from storage import models as m
    from storage.uow import UnitOfWork

    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    # a file, not sqlite:// (one shared connection): the test reads while the adapter marks sent
    app = bootstrap(load_config(path), db_url=f"sqlite:///{tmp_path / 'bot.db'}", clock=FakeClock(NOW))
    port = CountingPort(app)
    start_adapter(port)
    fake.wait_connected()
    ten_years = int(NOW.replace(year=2036).timestamp() * 1000)
    fake.push(message_event("/开班 李四 王五", sender="ou_manager", message_id="om_future", create_ms=ten_years))
    month_ago = int(NOW.timestamp() * 1000) - 31 * 86_400_000
    fake.push(message_event("/开班 赵六", sender="ou_manager", message_id="om_old", create_ms=month_ago))
    wait_for(lambda: len(port.results) == 2, what="two handle() calls")

    (future, future_outs), (old, old_outs) = port.results
    assert future.at == NOW and future.sent_at.year == 2036
    assert any("开班了" in o.text for o in future_outs)
    assert old_outs == []
    assert [r.message for r in caplog.records if "om_old" in r.message] == [
        "event feishu:om_old sent 2026-10-27 is older than the 30-day retention: dropped"]
    with UnitOfWork(app.engine, readonly=True) as uow:
        opens = uow.session.scalar(select(m.Project.next_open_at))
        outbox = uow.session.scalar(select(func.count()).select_from(m.Outbox)      # scheduled messages (the
                                    .where(m.Outbox.platform.is_(None)))               # replies are there too)
    assert opens.year == 2026 and outbox <= 1
