"""The tests' wall clock: a fixed day at a fixed hour, never the machine's.

Tests that need "now" (adapters, fake platform servers, processes started with `run --at`) read
`WALL`, which starts at TEST_DAY at the hour in RECEPTION_TEST_CLOCK ("HH:MM", Asia/Shanghai,
default 14:00, inside the shift) and then runs at real speed. A test is clock-sensitive when it
uses the `wall` fixture (directly or through another fixture) or its module sets
`pytestmark = pytest.mark.clock`; CI runs those at 03:00 and at 14:00 (`make test-clock`).
Nothing in the tests reads the machine's clock (tests/unit/test_wall_clock.py).
"""
from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import StartedClock

TZ = ZoneInfo("Asia/Shanghai")
TEST_DAY = date(2026, 12, 2)                # a Wednesday
DEFAULT_HOUR = "14:00"


def start() -> datetime:
    hh, _, mm = os.environ.get("RECEPTION_TEST_CLOCK", DEFAULT_HOUR).strip().partition(":")
    return datetime(TEST_DAY.year, TEST_DAY.month, TEST_DAY.day, int(hh), int(mm or 0), tzinfo=TZ)


WALL = StartedClock(start())


def wall_at() -> str:
    """WALL's time now as `--at` takes it (for a `run` or `link` in another process)."""
    return f"{WALL.now().astimezone(TZ):%Y-%m-%d %H:%M:%S.%f}"   # to the microsecond: never before a change just made


def wall_ms() -> int:
    """WALL's time now in epoch milliseconds (platform event timestamps)."""
    return int(WALL.now().timestamp() * 1000)
