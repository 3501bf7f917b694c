"""The Feishu worker records a burst of send outcomes in one transaction each way (issue 23: one
mark_sent per delivery burst, not one per reply), and keeps the order of what follows."""
from __future__ import annotations

import queue

from bot.adapters.feishu.adapter import FeishuAdapter
from bot.clock import FakeClock
from tests.conftest import at


class Bot:
    def __init__(self):
        self.calls: list[tuple[str, list[str]]] = []

    def mark_sent(self, keys, now):
        self.calls.append(("sent", list(keys)))

    def send_failed(self, keys, now):
        self.calls.append(("failed", list(keys)))


def worker(*items) -> tuple[FeishuAdapter, Bot, list]:
    a = FeishuAdapter.__new__(FeishuAdapter)
    a.bot, a.clock, a._events = Bot(), FakeClock(at("2026-11-27 09:00")), queue.Queue()
    handled: list = []
    a._handle = handled.append          # (the message path is the adapter tests' business)
    for item in items:
        a._events.put(item)
    return a, a.bot, handled


def test_replies_settled_together_are_marked_sent_in_one_call():
    a, bot, _ = worker(("settled", "k1", True), ("settled", "k2", True), ("settled", "k3", False),
                       ("settled", "k4", True), None)
    a._work()
    assert bot.calls == [("sent", ["k1", "k2", "k4"]), ("failed", ["k3"])]


def test_a_message_after_a_burst_is_handled_after_the_burst_is_recorded():
    a, bot, handled = worker(("settled", "k1", True), ("msg", "m1"), ("settled", "k2", True), None)
    a._work()
    assert bot.calls == [("sent", ["k1"]), ("sent", ["k2"])]
    assert handled == ["m1"]
