"""The process's one change signal (storage/changes.py, issue 23 item 4), on SQLite and PostgreSQL:
a commit of another process, of another connection and of this process wakes its listeners; a
read-only transaction does not; and a board stream waiting on it gets the new state (no timer poll)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text

from bot.adapters.web.server import Hub
from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from storage import changes
from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import UnitOfWork
from tests.conftest import at, fixed
from tests.waits import patience

ROOT = Path(__file__).resolve().parents[2]
_WRITE = """
import sys
from sqlalchemy import text
from storage.db import make_engine
with make_engine(sys.argv[1]).begin() as conn:
    conn.execute(text("UPDATE projects SET state = :s WHERE id = :p"), {"s": '{"x": 1}', "p": int(sys.argv[2])})
"""


class Heard:
    """A listener: every signal (a project id or None), and an event set by the first after `arm()`."""

    def __init__(self):
        self.got: list[int | None] = []
        self.event = threading.Event()

    def __call__(self, pid: int | None) -> None:
        self.got.append(pid)
        self.event.set()

    def arm(self) -> None:
        self.got.clear()
        self.event.clear()


def _project(engine) -> int:
    with UnitOfWork(engine) as uow:
        p = m.Project(name=f"p{uuid.uuid4().hex[:8]}", state={})
        uow.session.add(p)
        uow.session.flush()
        uow.commit()
        return p.id


def _settled(heard: Heard) -> None:
    """The watcher's first signal (it says so once it listens): wait for it, then start afresh."""
    assert heard.event.wait(patience(10)), "the watcher never started"
    threading.Event().wait(0.2)
    heard.arm()


@contextmanager
def _listening(db_url: str):
    """A migrated database with one project and a listener on its change feed, settled: (engine, id, heard)."""
    engine = make_engine(db_url)
    migrate(engine)
    pid = _project(engine)
    heard = Heard()
    stop = changes.feed(engine).subscribe(heard)
    try:
        _settled(heard)
        yield engine, pid, heard
    finally:
        stop()
        engine.dispose()


def test_a_commit_of_another_process_wakes_the_listener(db_url):
    with _listening(db_url) as (engine, pid, heard):
        subprocess.run([sys.executable, "-c", _WRITE, db_url, str(pid)], cwd=ROOT, check=True, timeout=patience(60))
        assert heard.event.wait(patience(10))
        # PostgreSQL's trigger names the project; SQLite's data_version cannot say which
        assert heard.got[0] == (pid if engine.dialect.name == "postgresql" else None)


def test_a_commit_of_this_process_wakes_it_and_a_read_only_transaction_does_not(db_url):
    with _listening(db_url) as (engine, pid, heard):
        with UnitOfWork(engine, readonly=True) as uow:
            uow.session.execute(text("SELECT state FROM projects"))
        assert not heard.event.wait(0.5)
        with UnitOfWork(engine) as uow:
            uow.session.get(m.Project, pid).state = {"y": 2}
            uow.commit()
        assert heard.event.wait(patience(10))


def test_in_memory_sqlite_has_only_this_process_and_is_signalled_after_the_commit():
    engine = make_engine("sqlite://")
    migrate(engine)
    heard = Heard()
    seen_in_listener: list[int] = []

    def listener(pid):                       # what a woken reader finds: the commit is already there
        with engine.connect() as conn:
            seen_in_listener.append(conn.execute(text("SELECT count(*) FROM projects")).scalar())
        heard(pid)

    stop = changes.feed(engine).subscribe(listener)
    try:
        _project(engine)
        assert heard.got == [None] and seen_in_listener == [1]
    finally:
        stop()


def test_a_waiting_board_wakes_on_the_signal_not_on_a_timer(db_url, config_file):
    """A screen waiting in Hub.changed wakes when another process commits a change of its project, long
    before its timeout; on SQLite the signal names no project and the hub finds the one that moved."""
    app = bootstrap(config_file(), db_url=db_url, clock=fixed("2026-12-02 10:00"))
    app.handle(Incoming("console", "张经理", "/开班 李四 王五", at("2026-12-02 10:00"), project="阳光花园"))
    with UnitOfWork(app.engine, readonly=True) as uow:
        pid = uow.session.scalar(select(m.Project.id).where(m.Project.name == "阳光花园"))

    async def scenario() -> tuple[bool, bool]:
        hub = Hub(app.engine, app.projects, app.clock.now)
        await hub.current(pid, "阳光花园")
        await asyncio.sleep(0.3)                              # the watcher's first signal comes and goes
        seen = hub.version(pid)
        quiet = asyncio.create_task(hub.changed(pid, seen, timeout=600))
        await asyncio.sleep(0.5)
        idle = not quiet.done()
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", _WRITE, db_url, str(pid)], cwd=ROOT,
                                check=True)
        await asyncio.wait_for(quiet, patience(10))
        hub.stopping.set()
        return idle, hub.version(pid) > seen

    try:
        assert asyncio.run(scenario()) == (True, True)
    finally:
        app.engine.dispose()
