"""Scheduled work that needs the database, with a fake clock (RULES §7). The jobs themselves (opening,
summary, reminders, lapses, nudges, quiet hours) run on fakes: tests/unit/test_handlers.py."""
from __future__ import annotations

import pytest

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.messages import Incoming
from tests.conftest import at

P = "阳光花园"


@pytest.fixture
def app(config_file):
    return bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-20 08:00")))


def test_platform_event_ids_are_kept_for_thirty_days_then_dropped(app):
    first = app.handle(Incoming("console", "李四", "签到", at("2026-11-20 08:40"), project=P, event_id="feishu:om_1"))
    assert first
    app.run_due(at("2026-12-15 09:00"), P)          # 25 days later: still remembered
    assert app.handle(Incoming("console", "李四", "签到", at("2026-12-15 09:01"), project=P, event_id="feishu:om_1")) == []
    app.run_due(at("2026-12-21 09:00"), P)          # 31 days later: forgotten
    assert app.handle(Incoming("console", "李四", "签到", at("2026-12-21 09:01"), project=P, event_id="feishu:om_1"))
