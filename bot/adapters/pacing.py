"""Pacing shared by the platform senders: at most `limit` sends per `period` seconds to one receiver.

Feishu allows 5 messages/s per receiver; WeCom's intelligent bot is paced per chat the same way
(its figure in bot/adapters/wecom/adapter.py). The caller waits what `reserve` says (time.sleep in
a thread, asyncio.sleep on a loop); the clock is monotonic and passed in.
"""
from __future__ import annotations

import collections


class Pacer:
    def __init__(self, limit: int, period: float):
        self.limit, self.period = max(int(limit), 1), period
        self._recent: dict[str, collections.deque] = collections.defaultdict(collections.deque)

    def reserve(self, receiver: str, now: float) -> float:
        """Seconds to wait before the next send to `receiver` (0: at once); the send is counted then."""
        window = self._recent[receiver]
        while window and now - window[0] >= self.period:
            window.popleft()
        wait = 0.0
        if len(window) >= self.limit:
            wait = max(self.period - (now - window[0]), 0.0)
            window.popleft()
        window.append(now + wait)
        return wait
