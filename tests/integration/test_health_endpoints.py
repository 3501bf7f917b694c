"""/healthz, /readyz and /metrics (issue 21 item 1) on the real App and database, through Starlette's client."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from bot.adapters.web.ops import make_ops_app
from bot.clock import FakeClock
from bot.health import Health
from bot.watchdog import Watchdog
from handlers.messages import Outgoing
from storage.db import make_engine
from tests.bus import opened, say
from tests.conftest import at


class Adapter:
    platform = "feishu"

    def __init__(self, last: float | None, open_: bool = True):
        self.last, self.open = last, open_

    def last_frame(self):
        return self.last

    def connected(self):
        return self.open

    def restart(self):
        pass


@pytest.fixture
def app(db_url, config_file):
    app = opened(db_url, config_file)
    app.mark_sent_until(at("2026-11-27 09:00"))
    return app


def client(health: Health) -> TestClient:
    return TestClient(make_ops_app(health))


def health_at(app, when: str, *adapters, now: float = 1000.0) -> Health:
    dog = Watchdog(window=120, monotonic=lambda: now)
    for a in adapters:
        dog.watch(a)
    return Health(app.engine, FakeClock(at(f"2026-11-27 {when}")), dog)


def test_ready_when_the_database_answers_the_platform_is_heard_and_the_outbox_is_empty(app):
    c = client(health_at(app, "09:10", Adapter(last=990.0)))
    assert c.get("/healthz").status_code == 200
    r = c.get("/readyz")
    assert (r.status_code, r.text) == (200, "ready\n")


def test_a_deaf_connection_fails_readiness_naming_the_platform_but_not_liveness(app):
    c = client(health_at(app, "09:10", Adapter(last=700.0)))
    r = c.get("/readyz")
    assert r.status_code == 503 and r.text == "feishu: no frame for 300 s (window 120 s)\n"
    assert c.get("/healthz").status_code == 200
    r = client(health_at(app, "09:10", Adapter(last=999.0, open_=False))).get("/readyz")
    assert r.status_code == 503 and r.text == "feishu: not connected\n"


def test_a_message_unsent_for_over_five_minutes_fails_readiness_and_is_counted(app):
    app.outbox.store([Outgoing("提醒", key="t:late", project="阳光花园")], at("2026-11-27 09:00"), numbered=False)
    c = client(health_at(app, "09:04"))
    assert c.get("/readyz").status_code == 200                  # 4 minutes: not yet late
    c = client(health_at(app, "09:06"))
    r = c.get("/readyz")
    assert r.status_code == 503 and r.text.startswith("outbox: 1 message(s) unsent for over 5 minutes (oldest 360 s)")
    assert metric(c, "reception_outbox_pending") == 1 and metric(c, "reception_outbox_oldest_seconds") == 360
    app.mark_sent(["t:late"], at("2026-11-27 09:07"))
    assert c.get("/readyz").status_code == 200 and metric(c, "reception_outbox_pending") == 0


def test_a_database_that_does_not_answer_fails_readiness_naming_it_while_liveness_and_counters_answer(app):
    dead = make_engine("postgresql://bot@127.0.0.1:1/reception")        # nothing listens on port 1
    c = client(Health(dead, FakeClock(at("2026-11-27 09:10")), Watchdog(window=120, monotonic=lambda: 0.0)))
    r = c.get("/readyz")
    assert r.status_code == 503 and r.text.startswith("database: ") and "127.0.0.1" in r.text
    assert c.get("/healthz").status_code == 200
    m = c.get("/metrics")
    assert m.status_code == 200 and "reception_commands_total" in m.text
    assert "reception_outbox_pending" not in m.text                 # unknown, not a made-up 0


def test_metrics_count_commands_by_verb_and_result_and_show_each_platform_s_last_frame(app):
    c = client(health_at(app, "09:10", Adapter(last=958.0), now=1000.0))
    ok, refused = (metric(c, "reception_commands_total", verb="接待", result=r) or 0 for r in ("ok", "refused"))
    say(app, "李四", "接待", "09:05")
    say(app, "赵六", "接待", "09:06")               # not 赵六's turn
    say(app, "李四", "接待", "09:07")               # already receiving
    assert metric(c, "reception_commands_total", verb="接待", result="ok") == ok + 1
    assert metric(c, "reception_commands_total", verb="接待", result="refused") == refused + 2
    assert metric(c, "reception_last_event_age_seconds", platform="feishu") == 42
    assert metric(c, "reception_platform_up", platform="feishu") == 1
    greetings = metric(c, "reception_scheduled_jobs_total", kind="greeting") or 0
    app.run_due(at("2026-12-02 09:01"))                         # the next working day opens by itself
    assert metric(c, "reception_scheduled_jobs_total", kind="greeting") == greetings + 1


def metric(c: TestClient, name: str, **labels) -> float | None:
    """One sample of the /metrics text (None when it is not there)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in c.get("/metrics").text.splitlines():
        mt = re.fullmatch(rf"{name}(?:{{(.*)}})? (\S+)", line)
        if mt and all(f'{k}="{v}"' in (mt[1] or "") for k, v in labels.items()) and (want or not mt[1]):
            return float(mt[2])
    return None


def test_ops_config_defaults_bind_to_this_machine_only():
    from bot.config import OpsCfg
    o = OpsCfg()
    assert (o.host, o.port, o.watchdog_seconds, o.alert_minutes) == ("127.0.0.1", 8080, 120, 10)
    assert timedelta(minutes=o.outbox_late_minutes) == timedelta(minutes=5)


def test_the_watchdog_s_word_reaches_each_manager_privately_through_the_outbox_once_per_outage(app):
    from sqlalchemy import select

    from bot.bootstrap import tell_managers
    from storage import models as m
    from storage.uow import UnitOfWork
    tell = tell_managers(app)
    tell("feishu", 11, False)
    tell("feishu", 14, True)
    with UnitOfWork(app.engine, readonly=True) as uow:
        rows = uow.session.execute(select(m.Outbox.to, m.Outbox.text, m.Outbox.sent_at)
                                   .where(m.Outbox.key.like("%:feishu:%")).order_by(m.Outbox.id)).all()
    assert [(r.to, r.sent_at) for r in rows] == [("张经理", None), ("张经理", None)]
    assert rows[0].text.startswith("⚠️ 飞书连接已中断约 11 分钟") and rows[1].text == "✅ 飞书连接已恢复（中断约 14 分钟）。"
