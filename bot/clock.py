"""The one wall clock. Everything that needs the time of day is handed a clock; only this module reads it.

- `SystemClock`: the real time (production).
- `StartedClock`: starts at a given instant and runs at real speed (`run --at`: try the bot at another
  hour; tests of long-running processes and adapters start it at a fixed hour).
- `FakeClock`: stands still until moved (tests, `replay`, `say --at`).

Monotonic timers (timeouts, rate limits, leases measured in seconds) are not wall-clock time and may
use `time.monotonic()` anywhere.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class StartedClock:
    """Reads `start` at the moment it is made, then advances with the monotonic clock."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("StartedClock needs an aware datetime")
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


class FakeClock:
    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, t: datetime) -> None:
        self._now = t


def clock_at(at: datetime | None, running: bool = False) -> Clock:
    """`at` given: a clock standing still there (or, `running`, starting there at real speed); else the real one."""
    if at is None:
        return SystemClock()
    return StartedClock(at) if running else FakeClock(at)
