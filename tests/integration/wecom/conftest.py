"""Fixtures for the WeCom tests: the fake server, an office on a real database, adapters on it.

Helpers live in wecom_fake.py: tests never import `conftest`."""
from __future__ import annotations

import pytest

from bot.adapters.wecom.adapter import WecomAdapter
from bot.adapters.wecom.client import Timing
from bot.adapters.wecom.holder import Holder
from bot.adapters.wecom.settings import WecomSettings
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import load_config
from tests.conftest import at
from tests.integration.wecom.wecom_fake import BOT_ID, SECRET, FakeWecom

GROUP = "wrGROUP01"
IDS = {"张经理": "u_zhang", "李四": "u_li", "王五": "u_wang"}
CONFIG = """\
database: sqlite:///{db}
projects:
  - name: 阳光花园
    shift: {{start: "09:00", end: "18:00"}}
    managers: [{{name: 张经理, wecom: u_zhang}}]
    salespeople: [{{name: 李四, wecom: u_li}}, {{name: 王五, wecom: u_wang}}]
    chats: {{wecom: [{group}]}}
"""


@pytest.fixture
def fake():
    server = FakeWecom()
    yield server
    server.close()


@pytest.fixture
def office(tmp_path):
    """The real App on a SQLite file, its clock at 2026-11-27 09:00 Shanghai."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db", group=GROUP), encoding="utf-8")
    config = load_config(cfg)
    return bootstrap(config, db_url=config.database, clock=FakeClock(at("2026-11-27 09:00")))


@pytest.fixture
def settings(fake):
    def make(**overrides) -> WecomSettings:
        timing = overrides.pop("timing", Timing(heartbeat=1.0, dead_after=5.0, retry_min=0.05, retry_max=0.2))
        values = dict(bot_id=BOT_ID, secret=SECRET, url=fake.url, per_chat_per_minute=600, timing=timing)
        values.update(overrides)
        return WecomSettings(**values)
    return make


@pytest.fixture
def start(settings):
    """start(app, **settings) -> a started WecomAdapter holding the bot through the app's database."""
    started: list[WecomAdapter] = []

    def make(app, **overrides) -> WecomAdapter:
        adapter = WecomAdapter(app, settings(**overrides), app.clock, Holder(app.engine, BOT_ID))
        adapter.start()
        started.append(adapter)
        return adapter
    yield make
    for adapter in started:
        adapter.stop()
