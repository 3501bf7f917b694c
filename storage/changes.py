"""One change signal per process (issue 23 item 4): the board pages wait on it instead of each open
board polling the database.

- PostgreSQL: a trigger (migration 0017) sends `NOTIFY reception_changes, '<project id>'` when a change
  is logged (audit), the day's state moves (projects) or a link is reset (board_tokens), from any
  process; one LISTEN connection per process hears it.
- SQLite: one thread reads `PRAGMA data_version` on its own connection every POLL_S seconds; the number
  moves when another connection commits (another process, or this one's pool). It never moves for
  the connection's own commits, and an in-memory database has no other connection: so every commit
  of this process's engine also signals when its connection goes back to the pool (after the COMMIT,
  never before it: a reader woken early would read the old state).

A signal carries the project's id when the database says which (PostgreSQL), else None (any project
may have changed). Listeners run on the watcher's thread or the committing thread: they must only
hand the signal on (e.g. `loop.call_soon_threadsafe`).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

CHANNEL = "reception_changes"
POLL_S = 0.05                 # SQLite: data_version read every 50 ms (one PRAGMA, no table read)
RETRY_S = 1.0                 # a lost LISTEN connection or an unreadable file: tried again after this
Listener = Callable[[int | None], None]
log = logging.getLogger(__name__)


class ChangeFeed:
    """The change signal of one engine in this process; its watcher thread starts with the first listener."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "commit", _mark_committed)
            event.listen(engine.pool, "checkin", self._after_commit)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(project_id | None)` on every change; returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                watch = self._watch_postgres if self.engine.dialect.name == "postgresql" else self._watch_sqlite
                self._thread = threading.Thread(target=watch, name="changes", daemon=True)
                self._thread.start()
        return lambda: self._unsubscribe(listener)

    def _unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._listeners:
                self._stop.set()

    def notify(self, project_id: int | None = None) -> None:
        for listener in list(self._listeners):
            listener(project_id)

    def _after_commit(self, _dbapi_conn, record) -> None:
        if record is not None and record.info.pop("reception_committed", False):
            self.notify(None)

    def _watch_sqlite(self) -> None:
        database = self.engine.url.database
        if database in (None, "", ":memory:"):
            return                                  # in memory: the commits of this process are all there are
        uri = bool(self.engine.url.query.get("uri"))
        seen = None
        while not self._stop.is_set():
            try:
                conn = sqlite3.connect(database, uri=uri, check_same_thread=False, isolation_level=None)
                try:
                    while not self._stop.is_set():
                        version = conn.execute("PRAGMA data_version").fetchone()[0]
                        if version != seen:
                            self.notify(None)       # (also once at the start: whatever came before it)
                        seen = version
                        self._stop.wait(POLL_S)
                finally:
                    conn.close()
            except sqlite3.Error as e:
                log.warning("changes: cannot read %s: %s", database, e)
                seen = None
                self._stop.wait(RETRY_S)

    def _watch_postgres(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self.engine.raw_connection()
                conn: Any = raw.driver_connection
                raw.detach()                        # held by this thread for good: not the pool's any more
                conn.rollback()                     # (the pool's ping began a transaction)
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                self.notify(None)                   # (re)connected: whatever happened meanwhile
                try:
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=0.5):
                            self.notify(int(n.payload) if n.payload.isdigit() else None)
                finally:
                    conn.close()                    # (not raw.close(): its pool reset would roll back on a
                                                    # connection the server closed, and log a traceback)
            except Exception as e:                  # the server went away: listen again when it is back
                log.warning("changes: LISTEN %s lost: %s", CHANNEL, e)
                self._stop.wait(RETRY_S)


def _mark_committed(conn) -> None:
    """ConnectionEvents.commit comes before the COMMIT: mark the connection; the pool's checkin,
    after it, signals."""
    conn.info["reception_committed"] = True


def feed(engine: Engine) -> ChangeFeed:
    """The engine's one ChangeFeed in this process."""
    found = engine.__dict__.get("_reception_changes")
    if found is None:
        found = engine.__dict__.setdefault("_reception_changes", ChangeFeed(engine))
    return found
