"""SQLite under contention (issue 11 item 9): a command that finds the write lock taken waits with
short tries and jitter, or runs its whole unit of work again after a busy error; either way it is
applied exactly once, and one that never gets through leaves nothing behind."""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from storage import retry
from storage.db import DatabaseProblem
from storage.uow import UnitOfWork
from tests.conftest import at, fixed
from tests.waits import patience

VISIT = "到访 张三 13812345678"


@pytest.fixture
def app(tmp_path, config_file):
    app = bootstrap(config_file(), db_url=f"sqlite:///{tmp_path}/reception.db", clock=fixed())
    app.handle(Incoming("console", "张经理", "/开班 李四 王五", at("2026-11-27 09:00")))
    return app


def _counts(app) -> dict:
    with app.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()      # noqa: S608 (fixed names)
                for t in ("customers", "receptions", "audit")} | {
            "state": json.loads(conn.execute(text("SELECT state FROM projects")).scalar())}


def _facts(app) -> tuple[dict, dict]:
    """Receptions counted for each member and each member's open ones: the queue's counts (their one source)."""
    with app.engine.connect() as conn:
        counted = dict(conn.execute(text(
            "SELECT counted_for, count(*) FROM receptions WHERE counted_for IS NOT NULL GROUP BY counted_for")).all())
        held = dict(conn.execute(text(
            "SELECT member, count(*) FROM receptions WHERE ended_at IS NULL GROUP BY member")).all())
    return counted, held


def _hold_write_lock(path: str, seconds: float, started: threading.Event) -> threading.Thread:
    """Another process's long write transaction, simulated by a second connection."""
    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()
    t = threading.Thread(target=hold)
    t.start()
    started.wait(patience(5))
    return t


def test_a_command_finding_the_lock_taken_past_the_busy_timeout_waits_and_is_applied_once(app, tmp_path):
    before, waits = _counts(app), retry.STATS.lock_waits
    holder = _hold_write_lock(f"{tmp_path}/reception.db", 30 * retry.BUSY_TIMEOUT_MS / 1000, threading.Event())
    out = app.handle(Incoming("console", "李四", VISIT, at("2026-11-27 09:05")))
    holder.join()
    assert retry.STATS.lock_waits > waits                     # it really found the lock taken, more than once
    assert out[-1].text.endswith("下一位:王五"), out
    after = _counts(app)
    assert after["customers"] == before["customers"] + 1
    assert after["receptions"] == before["receptions"] + 1
    assert after["audit"] == before["audit"] + 1


def _busy(statement: str) -> OperationalError:
    return OperationalError(statement, {}, sqlite3.OperationalError("database is locked"))


def test_a_unit_of_work_failing_busy_at_commit_is_rolled_back_and_run_again_exactly_once(app, monkeypatch):
    """The busy error comes after the handler changed rows and state (at COMMIT): the retry starts
    from the database as it was, so the walk-in is counted once, not twice."""
    real, calls = UnitOfWork.commit, []

    def commit_busy_once(self):
        calls.append(1)
        if len(calls) == 1:
            self.session.flush()                              # the work is in the transaction …
            raise _busy("COMMIT")                             # … and the commit fails
        real(self)
    monkeypatch.setattr(UnitOfWork, "commit", commit_busy_once)
    before, retries = _counts(app), retry.STATS.retries
    was_counted, was_held = _facts(app)
    out = app.handle(Incoming("console", "李四", VISIT, at("2026-11-27 09:05")))
    assert retry.STATS.retries == retries + 1 and len(calls) == 2
    after = _counts(app)
    assert (after["customers"], after["receptions"], after["audit"]) == (
        before["customers"] + 1, before["receptions"] + 1, before["audit"] + 1)
    counted, held = _facts(app)
    assert counted == {**was_counted, "李四": was_counted.get("李四", 0) + 1}
    assert held == {**was_held, "李四": was_held.get("李四", 0) + 1}
    assert out[-1].text.endswith("下一位:王五")


def test_a_command_busy_until_the_deadline_is_refused_in_one_line_and_leaves_nothing(app, tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "DEADLINE", 0.2)
    before = _counts(app)
    holder = _hold_write_lock(f"{tmp_path}/reception.db", 1.0, threading.Event())
    try:
        with pytest.raises(DatabaseProblem) as e:
            app.handle(Incoming("console", "李四", VISIT, at("2026-11-27 09:05")))
    finally:
        holder.join()
    assert "\n" not in str(e.value) and "占用" in str(e.value)
    assert _counts(app) == before                             # not half-applied: nothing at all
    out = app.handle(Incoming("console", "李四", VISIT, at("2026-11-27 09:07")))   # and it can be sent again
    assert out[-1].text.endswith("下一位:王五")
    assert _counts(app)["customers"] == before["customers"] + 1


def test_a_busy_error_mid_transaction_after_the_deadline_rolls_everything_back(app, monkeypatch):
    monkeypatch.setattr(retry, "DEADLINE", 0.05)

    def always_busy(self):
        self.session.flush()
        raise _busy("COMMIT")
    monkeypatch.setattr(UnitOfWork, "commit", always_busy)
    before = _counts(app)
    with pytest.raises(DatabaseProblem):
        app.handle(Incoming("console", "李四", VISIT, at("2026-11-27 09:05")))
    monkeypatch.undo()
    assert _counts(app) == before


def test_other_errors_are_not_retried(monkeypatch):
    calls = []

    def fails():
        calls.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    with pytest.raises(OperationalError):
        retry.retrying(fails)
    assert len(calls) == 1
