"""The watchdog for deaf connections (bot/watchdog.py), on a fake adapter and a fake monotonic clock."""
from __future__ import annotations

from bot import metrics
from bot.watchdog import Watchdog


class Ticker:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class FakeAdapter:
    """Says when its last frame came; a restart opens a new connection that is silent until `frame()`."""
    platform = "feishu"

    def __init__(self, ticker: Ticker):
        self.ticker, self.last, self.open, self.restarts = ticker, None, True, 0

    def frame(self):
        self.last = self.ticker()

    def last_frame(self):
        return self.last

    def connected(self):
        return self.open

    def restart(self):
        self.restarts += 1


def dog(window=120.0, alert_after=600.0):
    ticker, told = Ticker(), []
    w = Watchdog(lambda platform, minutes, back: told.append((platform, minutes, back)), window, alert_after, ticker)
    a = FakeAdapter(ticker)
    w.watch(a)
    return w, a, ticker, told


def test_a_connection_that_keeps_sending_heartbeats_is_never_restarted():
    w, a, ticker, told = dog()
    for _ in range(20):
        ticker.t += 60
        a.frame()
        w.check()
    assert a.restarts == 0 and told == [] and w.problems() == []


def test_a_connection_silent_past_the_window_is_restarted_once_per_window_and_readiness_fails_meanwhile():
    w, a, ticker, _ = dog()
    a.frame()
    before = metrics.REGISTRY.get_sample_value("reception_platform_reconnects_total",
                                               {"platform": "feishu", "reason": "watchdog"}) or 0
    ticker.t += 119
    w.check()
    assert a.restarts == 0 and w.problems() == []
    ticker.t += 2
    w.check()
    assert a.restarts == 1
    assert w.problems() == ["feishu: no frame for 121 s (window 120 s)"]
    ticker.t += 60
    w.check()
    assert a.restarts == 1                      # the new connection gets its own window
    ticker.t += 61
    w.check()
    assert a.restarts == 2
    after = metrics.REGISTRY.get_sample_value("reception_platform_reconnects_total",
                                              {"platform": "feishu", "reason": "watchdog"})
    assert after - before == 2
    a.frame()
    assert w.problems() == []


def test_a_closed_connection_is_named_not_connected():
    w, a, _, _ = dog()
    a.frame()
    a.open = False
    assert w.problems() == ["feishu: not connected"]


def test_managers_are_told_once_after_ten_minutes_down_and_once_when_it_is_back():
    w, a, ticker, told = dog()
    a.frame()
    for _ in range(9):
        ticker.t += 60
        w.check()
    assert told == []
    for _ in range(5):
        ticker.t += 60
        w.check()
    assert told == [("feishu", 11, False)]
    ticker.t += 30
    a.frame()
    w.check()
    w.check()
    assert told == [("feishu", 11, False), ("feishu", 14, True)]


def test_a_short_outage_is_not_told():
    w, a, ticker, told = dog()
    a.frame()
    ticker.t += 300
    w.check()
    a.frame()
    w.check()
    assert a.restarts == 1 and told == []


def test_a_failing_adapter_does_not_stop_the_others_being_checked():
    w, a, ticker, _ = dog()

    class Broken(FakeAdapter):
        platform = "wechat"

        def restart(self):
            raise RuntimeError("boom")

    b = Broken(ticker)
    w.watch(b)
    ticker.t += 500
    w.check()
    assert a.restarts == 1
