"""One holder of a WeCom bot's long connection: a new connection pushes the old one out, so two
processes of the same bot would push each other out for ever. The holder is a PostgreSQL session
advisory lock (released when its connection ends, a killed process included) or, on SQLite, an
exclusive `flock` on a file beside the database (released by the kernel when the process ends)."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import Engine, text


class Holder:
    def __init__(self, engine: Engine, bot_id: str):
        self.engine, self.bot_id = engine, bot_id
        digest = hashlib.sha256(f"reception-bot wecom {bot_id}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)      # pg advisory locks take a bigint
        self._session = None
        self._fd: int | None = None

    @property
    def where(self) -> str:
        """What holds it, for the log line of a process that waits."""
        if self.engine.dialect.name == "postgresql":
            return f"PostgreSQL advisory lock {self.key}"
        return f"file lock {self.path()}"

    def path(self) -> Path:
        db = self.engine.url.database
        base = Path(db) if db and db != ":memory:" else Path(tempfile.gettempdir()) / "reception-bot"
        return base.with_name(f"{base.name}.wecom-{self.key & 0xFFFFFFFF:08x}.lock")

    def take(self) -> bool:
        """True when this process holds the bot now (it may already); False while another one does."""
        if self._session is not None or self._fd is not None:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._take_pg()
        return self._take_file()

    def _take_pg(self) -> bool:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar():
            self._session = conn
            return True
        conn.close()
        return False

    def _take_file(self) -> bool:
        fd = os.open(self.path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        conn, self._session = self._session, None
        if conn is not None:
            with contextlib.suppress(Exception):        # a dead connection has released it already
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.close()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)                                # closing the descriptor drops the flock
