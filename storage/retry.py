"""SQLite under contention (issue 11 item 9): wait for the write lock briefly, then try again with jitter.

SQLite's own busy handler sleeps longer and longer (up to 100 ms a try), so a process that has
waited a while polls rarely and newcomers keep taking the lock first: with 8 writers the worst
command waited 2-4 s. Here SQLite gives up after BUSY_TIMEOUT_MS, and we try again after a short
random pause: every waiter keeps polling often, whoever has waited longest included.

Two places use it: the engine's `BEGIN IMMEDIATE` (storage/db.py; nothing has run yet, so every
write transaction, migrations and scheduled work included, waits this way), and `retrying()`
around a command's whole unit of work (bot/app.py): a busy error anywhere inside it rolls it back,
and it runs again from the start, so it is applied once or not at all.
"""
from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import OperationalError

R = TypeVar("R")
BUSY_TIMEOUT_MS = 10        # SQLite's own wait for the lock, per try (its handler polls at 1, 2, 5 ms)
PAUSE = (0.0005, 0.004)     # then a random pause (s) before the next try: the jitter
DEADLINE = 60.0             # give up after this long in all ("数据库被其他进程占用"), as the old busy timeout


@dataclass
class Stats:
    """Per process, for the benchmark and the tests."""
    lock_waits: int = 0     # BEGIN IMMEDIATE found the lock taken and tried again
    retries: int = 0        # a whole unit of work ran again after a busy error
    gave_up: int = 0


STATS = Stats()


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy": another process holds the lock."""
    orig = exc.orig if isinstance(exc, OperationalError) else exc
    return isinstance(orig, sqlite3.OperationalError) and any(w in str(orig) for w in ("locked", "busy"))


def pause() -> None:
    time.sleep(random.uniform(*PAUSE))


def begin_immediate(dbapi_conn: sqlite3.Connection, fallback: Callable[[], object]) -> None:
    """BEGIN IMMEDIATE, trying again with jitter while another process writes; after DEADLINE
    `fallback` issues it once more through SQLAlchemy, so the last error is the usual wrapped one."""
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE:
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if not is_busy(e):
                raise
        STATS.lock_waits += 1
        pause()
    STATS.gave_up += 1
    fallback()


def retrying(work: Callable[[], R], deadline: float | None = None) -> R:
    """Run `work` (one whole unit of work: it commits everything or nothing) until it gets through
    without a busy error, or until `deadline` (default DEADLINE) seconds have passed."""
    start, deadline = time.monotonic(), DEADLINE if deadline is None else deadline
    while True:
        try:
            return work()
        except OperationalError as e:
            if not is_busy(e) or time.monotonic() - start > deadline:
                STATS.gave_up += is_busy(e)
                raise
        STATS.retries += 1
        pause()
