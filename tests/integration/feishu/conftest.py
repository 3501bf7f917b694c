"""Fixtures for the Feishu adapter tests: the fake Feishu server, a recording BotPort, adapters.

Helpers live in feishu_fake.py (a unique module name): tests never import `conftest`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from feishu_fake import APP_ID, APP_SECRET, BOT_NAME, FakeFeishu, RecordingBot

from bot.adapters.feishu.adapter import FeishuAdapter, FeishuSettings
from tests.clock import WALL


@pytest.fixture
def fake(wall):     # its event times are the tests' wall clock: every Feishu test is clock-sensitive
    server = FakeFeishu()
    yield server
    server.close()


@pytest.fixture
def recording_bot():
    return RecordingBot()


@pytest.fixture
def settings_for(fake) -> Callable[..., FeishuSettings]:
    def make(**overrides) -> FeishuSettings:
        values = dict(app_id=APP_ID, app_secret=APP_SECRET, domain=fake.url, bot_name=BOT_NAME)
        values.update(overrides)
        return FeishuSettings(**values)

    return make


@pytest.fixture
def start_adapter(settings_for):
    """start_adapter(bot, **settings) -> a started FeishuAdapter on the bot's clock (a stand-in's: the
    tests' wall clock), stopped at teardown."""
    started: list[FeishuAdapter] = []

    def start(bot, **overrides) -> FeishuAdapter:
        adapter = FeishuAdapter(bot, settings_for(**overrides), getattr(bot, "clock", WALL))
        adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        adapter.stop()
