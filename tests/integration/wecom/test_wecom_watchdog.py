"""The WeCom adapter under the watchdog (issue 21): it says when its last frame came, whether it is
connected, and restarts in place; the watchdog restarts it when the frames stop."""
from __future__ import annotations

import time

from bot.watchdog import Watchdog
from tests.waits import patience


def test_the_adapter_reports_its_frames_and_a_restart_reconnects_in_place(fake, office, start):
    adapter = start(office)
    fake.wait_subscribed()
    assert adapter.platform == "wecom" and adapter.connected and adapter.last_frame() is not None
    adapter.restart()
    fake.wait_subscribed(2, timeout=patience(10))          # the same adapter connects again
    deadline = time.monotonic() + patience(10)
    while not adapter.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert adapter.connected


def test_the_watchdog_restarts_a_wecom_adapter_whose_frames_stopped(fake, office, start):
    adapter = start(office)
    fake.wait_subscribed()
    now = [time.monotonic()]
    dog = Watchdog(window=120, alert_after=600, monotonic=lambda: now[0])
    dog.watch(adapter)
    assert dog.up(adapter)
    now[0] += 200                                              # 200 s pass on the watchdog's clock, no frame
    assert [p.split(" for ")[0] for p in dog.problems()] == ["wecom: no frame"]          # /readyz names it
    dog.check()
    fake.wait_subscribed(2, timeout=patience(10))
