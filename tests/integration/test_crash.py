"""A `reception-bot say` process killed (SIGKILL) at a random moment leaves the database exactly as before
the command or exactly as after it, never in between (DEVELOPERS: correct under a crash mid-command).

Each round copies the database, runs the command cleanly on the copy (the "after" picture), then runs the
same command on the real database and kills it at a random moment of its run (`kill_moment`: moments
spread over the part of the run where the database is touched, one in each slice of it). Every table is compared row
by row; only the outbox's delivery columns may differ (a reply written but not yet marked sent is the
outbox's business: it is sent again under the same key). A command that did not happen is sent again, as
a platform redelivers it, and must then give the "after" picture.
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from storage import pgcluster
from tests.conftest import ROOT
from tests.waits import patience

BOT = [sys.executable, "-m", "bot.cli"]
# Kills per database. 8 by default (make test); CRASH_ROUNDS=40 for a long run. Eight suffice because the
# moments are not uniform over the whole run: see kill_moment.
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "8"))
DELIVERY = {"claimed_at", "claimed_by", "sent_at", "attempts", "retry_at", "failed_at"}
MEMBERS = ["李四", "王五", "赵六"]


def say(cfg, db, when, sender, msg, kill_after=None) -> tuple[bool, float, float | None]:
    """Run one `say`; kill it after `kill_after` seconds. Returns (finished by itself, seconds it ran,
    seconds until its first reply line: `say` prints after its transaction and the outbox marking committed)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(BOT + ["say", "--config", str(cfg), "--db", db, "--at", when, sender, msg],
                             cwd=ROOT, stdout=subprocess.PIPE if kill_after is None else subprocess.DEVNULL, stderr=err)
        replied = None
        if kill_after is not None:
            try:
                p.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                return False, time.monotonic() - t0, None
        else:
            for _line in p.stdout:           # (`say` flushes each line)
                replied = replied or time.monotonic() - t0
            p.stdout.close()
        p.wait(timeout=patience(120))
        took = time.monotonic() - t0
        err.seek(0)
        assert p.returncode == 0, err.read().decode()
        return True, took, replied


def say_here(cfg, db, when, sender, msg) -> None:
    """The same `say`, in this process: the set-up before the kills (a process start saved per command)."""
    from bot.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["say", "--config", str(cfg), "--db", db, "--at", when, sender, msg]) == 0


def kill_moment(rng, stratum: int, rounds: int, took: float, replied: float | None) -> float:
    """When to kill the command, from the clean run's length (`took`) and its first reply (`replied`).

    The first part of a run is the interpreter starting and importing; the reply comes at about 0.75·took,
    after the command's transaction and the outbox marking committed; the rest is the exit. The kills
    fall in [0.5·took, the reply + a quarter of the rest]: the bootstrap, the scheduler's catch-up, the
    command's own transaction and its commit, the marking, the start of the exit. (Uniform kills over
    [0.5, 1.05]·took, as before, spent about half of themselves in the exit, where nothing can break.)
    The window is cut into `rounds` equal slices and each round kills at a random moment of its own slice
    (`stratum`, shuffled): so eight rounds already kill before the transaction, inside it and around its
    commit, and after it on either side of the marking; the killed run's own pace, never quite the clean
    run's, moves each moment a little further. CRASH_ROUNDS=40 cuts the window finer.
    """
    lo = 0.5 * took
    hi = replied + 0.25 * (took - replied) if replied else 1.05 * took
    return lo + (stratum + rng.random()) / rounds * (hi - lo)


def _differ(now: dict, before: dict, after: dict) -> str:
    """Which tables are neither as before nor as after, and how (for the failure message)."""
    return "; ".join(f"{t}: now {now.get(t)} before {before.get(t)} after {after.get(t)}" for t in sorted(now)
                     if now.get(t) not in (before.get(t), after.get(t)))


def picture(db: str) -> dict:
    """Every table's rows, ordered, without the outbox's delivery columns."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            out = {}
            for table in sorted(inspect(conn).get_table_names()):
                if table == "alembic_version":
                    continue
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                keep = [tuple(sorted((k, repr(v)) for k, v in r.items() if not (table == "outbox" and k in DELIVERY)))
                        for r in rows]
                out[table] = sorted(keep)
            return out
    finally:
        engine.dispose()


class Sqlite:
    """rowids come from max(id) + 1, so a rolled-back attempt leaves no trace in the ids."""

    def sequences(self) -> dict:
        return {}

    def reset(self, sequences: dict) -> None:
        pass

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.url = f"sqlite:///{tmp_path}/reception.db"

    def copy(self) -> str:
        name = self.dir / f"copy-{uuid.uuid4().hex[:8]}.db"
        with sqlite3.connect(self.dir / "reception.db") as src, sqlite3.connect(name) as dst:
            src.backup(dst)              # a consistent copy, WAL included
        return f"sqlite:///{name}"

    def drop(self, url: str) -> None:
        pass                             # (tmp_path goes with the test)


class Postgres:
    def __init__(self, server: str):
        self.server = server
        self.url = pgcluster.create_database(server, "crash_")
        self.name = self.url.rsplit("/", 1)[1]

    def _sql(self, statement: str):
        import psycopg
        with psycopg.connect(self.server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else None

    def sequences(self) -> dict:
        """PostgreSQL sequences move on even when the transaction that drew from them rolls back."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"))
                return dict(rows.all())
        finally:
            engine.dispose()

    def reset(self, sequences: dict) -> None:
        """Put the sequences back as they were, so a redelivered command draws the ids the clean run drew."""
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                for name, value in sequences.items():
                    conn.execute(text("SELECT setval(:n, :v, :called)"),
                                 {"n": name, "v": value or 1, "called": value is not None})
        finally:
            engine.dispose()

    def copy(self) -> str:
        name = "copy_" + uuid.uuid4().hex[:8]
        for _ in range(50):              # a killed client's backend may take a moment to go away
            self._sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'")
            try:
                self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
                return f"{self.server}/{name}"
            except Exception:            # "source database is being accessed by other users"
                time.sleep(0.1)
        raise AssertionError("could not copy the database")

    def drop(self, url: str) -> None:
        """The copy, once its picture is taken: the cluster stays small (it is removed at the end of the session)."""
        self._sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return Sqlite(tmp_path)
    return Postgres(request.getfixturevalue("pg_server"))


def day_of_commands(rounds: int):
    """(sender, text) in an order that makes every round change several tables."""
    for i in range(rounds):
        who = MEMBERS[i % len(MEMBERS)]
        if i % 2 == 0:
            yield who, f"到访 王{chr(0x5c0f + i)}明 139{i:08d}"
        else:
            yield MEMBERS[(i - 1) % len(MEMBERS)], "送客"


def test_a_say_killed_at_a_random_moment_leaves_the_command_whole_or_absent(database, config_file):
    cfg = config_file()
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(1 << 30))    # CRASH_SEED=… reproduces a run
    rng = random.Random(seed)
    say_here(cfg, database.url, "2026-11-27 09:00", "张经理", "/开班 " + " ".join(MEMBERS))
    for who in MEMBERS:
        say_here(cfg, database.url, "2026-11-27 09:01", who, "签到")
    strata = rng.sample(range(ROUNDS), ROUNDS)
    outcomes, moments = {"absent": 0, "whole": 0}, []       # moments: the kill's share of the clean run
    for i, (who, msg) in enumerate(day_of_commands(ROUNDS)):
        when = f"2026-11-27 {10 + i // 60:02d}:{i % 60:02d}"
        before, sequences = picture(database.url), database.sequences()
        copy = database.copy()
        _, took, replied = say(cfg, copy, when, who, msg)
        after = picture(copy)
        database.drop(copy)
        kill_after = kill_moment(rng, strata[i], ROUNDS, took, replied)
        finished, _, _ = say(cfg, database.url, when, who, msg, kill_after=kill_after)
        now = picture(database.url)
        assert now in (before, after), (f"round {i} (CRASH_SEED={seed}): {who}「{msg}」 half-applied after a kill: "
                                        f"{_differ(now, before, after)}")
        moments.append(f"{kill_after / took:.2f}{'·' if now == before else '+'}")
        if now == before:
            assert not finished
            outcomes["absent"] += 1
            database.reset(sequences)                    # (ids only: the killed attempt drew some)
            say(cfg, database.url, when, who, msg)       # the platform delivers it again
            assert picture(database.url) == after, f"round {i} (CRASH_SEED={seed}): the redelivered command differs"
        else:
            outcomes["whole"] += 1
    assert sum(outcomes.values()) == ROUNDS
    print(f"{ROUNDS} kills (CRASH_SEED={seed}): {outcomes}; at (· absent, + whole): {' '.join(moments)}")
