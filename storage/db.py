"""Engines: SQLite (embedded default) and PostgreSQL (production), migrated by Alembic."""
from __future__ import annotations

import ast
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from rules import texts as T
from storage import retry

if TYPE_CHECKING:                               # alembic is imported when migrating, not before
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
OUTAGE = (OperationalError, InterfaceError)     # the database, not the message: unreachable, locked, read-only


class DatabaseProblem(Exception):
    """The database cannot be used (bad URL, unreachable, corrupt, read-only); the message says why, in one line."""


class SchemaTooNew(DatabaseProblem):
    """The database names an Alembic revision this code does not know: a newer release migrated it."""


def make_engine(url: str) -> Engine:
    """SQLite or PostgreSQL; any other database, or a driver that is not installed, is a DatabaseProblem."""
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):     # (their drivers are not installed either)
            raise DatabaseProblem(T.DB_UNSUPPORTED.format(url=_shown(url)))
        if backend == "sqlite":
            return _sqlite_engine(url, parsed)
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10}, **JSON_CODEC)
    except (ArgumentError, NoSuchModuleError, ValueError) as e:
        raise DatabaseProblem(T.DB_BAD_URL.format(url=_shown(url))) from e
    except ImportError as e:                            # e.g. postgresql+asyncpg://, sqlite+pysqlcipher://
        raise DatabaseProblem(T.DB_NO_DRIVER.format(url=_shown(url), module=e.name or e)) from e


def _shown(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:                       # unparsable: show its scheme only (it may hold a password)
        return str(url).split("://", 1)[0] + "://…" if "://" in str(url) else T.DB_NOT_A_URL


def explain(exc: BaseException, url: str | URL) -> str | None:
    """One line saying what is wrong with the database, or None when `exc` is not a database fault."""
    if isinstance(exc, DatabaseProblem):
        return str(exc)
    if not isinstance(exc, DBAPIError) or not (isinstance(exc, OUTAGE) or type(exc.orig) is sqlite3.DatabaseError):
        return None                          # a constraint or data error is a bug or bad input, not the database
    first = (str(exc.orig).strip().splitlines() or [""])[0][:200]
    where = _shown(url)
    if make_url(url).get_backend_name() == "sqlite":
        for words, text in SQLITE_FAULTS:
            if any(w in first for w in words):
                return T.DB_SQLITE_FAULT.format(what=text, url=where)
    return T.DB_DOWN.format(url=where, why=first)


def json_dumps(value: Any) -> str:
    """The JSON columns' text (the day's state, the change log, the outbox's mentions …): orjson, ~6× the
    standard library's speed (a command wrote ~5 JSON values, ~85 µs of its time); keys that are not
    strings are written as strings, as json.dumps does."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_CODEC = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}


SQLITE_FAULTS = (
    (("file is not a database", "malformed"), T.DB_SQLITE_CORRUPT),
    (("readonly",), T.DB_SQLITE_READ_ONLY),
    (("unable to open",), T.DB_SQLITE_CANNOT_OPEN),
    (("locked", "busy"), T.DB_SQLITE_LOCKED),
    (("disk is full", "disk I/O"), T.DB_SQLITE_DISK),
)


def _sqlite_engine(url: str, parsed: URL) -> Engine:
    memory = parsed.database in (None, "", ":memory:")
    if memory:                                      # one database, on one connection every thread shares
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **JSON_CODEC)
        event.listen(engine, "do_connect", _one_at_a_time)
    else:
        if not parsed.query.get("uri"):             # a file: URI names an existing file
            _make_parent(Path(parsed.database or ""))
        engine = create_engine(url, connect_args={"timeout": 60}, **JSON_CODEC)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # SQLAlchemy's documented pysqlite recipe: stop pysqlite from issuing its own BEGIN
        # (it would begin lazily, after our first SELECT), and begin ourselves below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")      # (under the 60 s connect timeout: a new file)
        cur.execute(f"PRAGMA busy_timeout={retry.BUSY_TIMEOUT_MS:d}")   # then short: see begin_immediate
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    event.listen(engine, "begin", _on_begin)
    return engine


def _on_begin(conn: Connection) -> None:
    """Every write transaction takes the write lock up front: two commands never interleave.
    Read-only units of work (lookups, the state dump) read a WAL snapshot without it.
    Waiting for the lock: a short busy timeout, then again after a random pause (storage/retry.py).
    In memory, the shared connection's turn comes first (`_OneAtATime`)."""
    raw: Any = conn.connection.dbapi_connection
    took = isinstance(raw, _OneAtATime) and raw.take_turn()
    try:
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            retry.begin_immediate(raw, lambda: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    except BaseException:
        if took:
            raw.give_back()
        raise


def _one_at_a_time(dialect, _record, cargs, cparams) -> _OneAtATime:
    """The engine's do_connect for an in-memory database: its one connection, wrapped."""
    return _OneAtATime(dialect.loaded_dbapi.connect(*cargs, **cparams))


class _OneAtATime:
    """The one pysqlite connection of an in-memory database (StaticPool), shared by every thread (a
    platform's SDK thread storing a delivery while the worker runs a command): one transaction at a
    time. The engine's begin event waits for the turn; the DBAPI commit or rollback that ends the
    transaction gives it back, after SQLite has ended it (SQLAlchemy's commit and rollback events
    come before: the next thread's BEGIN would find the transaction still open). A commit or rollback
    from a thread without the turn has no transaction to end and does nothing: the pool's
    reset-on-return would otherwise roll back the transaction of the thread that has it."""

    def __init__(self, raw: sqlite3.Connection):
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_turn", threading.Lock())
        object.__setattr__(self, "_owner", None)

    def __getattr__(self, name: str):
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._raw, name, value)             # (isolation_level, in the connect event)

    def take_turn(self) -> bool:
        """Wait until no other thread has a transaction here; False when this thread has the turn already
        (its BEGIN then fails as SQLite says, not by waiting for itself)."""
        me = threading.get_ident()
        if self._owner == me:
            return False
        if not self._turn.acquire(timeout=retry.DEADLINE):
            raise OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked"))
        object.__setattr__(self, "_owner", me)
        return True

    def give_back(self) -> None:
        if self._owner == threading.get_ident() and not self._raw.in_transaction:
            object.__setattr__(self, "_owner", None)
            self._turn.release()

    def commit(self) -> None:
        if self._owner == threading.get_ident():
            try:
                self._raw.commit()
            finally:
                self.give_back()                    # (a failed COMMIT leaves it open: the rollback gives it back)

    def rollback(self) -> None:
        if self._owner == threading.get_ident():
            try:
                self._raw.rollback()
            finally:
                self.give_back()


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatabaseProblem(T.DB_NO_DIRECTORY.format(path=path.parent, why=e.strerror)) from e
    if path.is_dir():
        raise DatabaseProblem(T.DB_PATH_IS_DIR.format(path=path))


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent).

    SQLite alters a table in batch mode: copy it, drop it, rename the copy. Dropping a table other
    rows reference fails while foreign keys are enforced, so, as Alembic's batch-mode docs and
    SQLite's ALTER TABLE procedure say, enforcement is off while the migrations run (switched
    outside the transaction: inside one the PRAGMA does nothing), PRAGMA foreign_key_check runs
    before the commit, and enforcement is on again for the pooled connection.

    A database already at the code's head is left alone after one query (Alembic is not even
    imported: it costs a third of a second of start-up); anything else takes the full path."""
    if _at_head(engine):
        return
    cfg = _alembic_config()
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # processes starting together on an empty database migrate one after the other
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7204211)")
            _upgrade(cfg, conn)
        return
    with engine.connect() as conn, _foreign_keys_off(conn), conn.begin():
        if _upgrade(cfg, conn):
            _check_foreign_keys(conn)
        # a read-only file fails now, not after the first answer
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        conn.exec_driver_sql(f"PRAGMA user_version = {version}")


@cache
def code_heads() -> frozenset[str]:
    """The revisions no other revision names as its down_revision, read from the migration files'
    `revision = ...` / `down_revision = ...` lines (what Alembic's ScriptDirectory says, without Alembic)."""
    assign = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.M)
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {k: ast.literal_eval(v.strip()) for k, v in assign.findall(path.read_text(encoding="utf-8"))}
        if "revision" not in found:
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        downs.update(down if isinstance(down, tuple | list) else [down] if down else [])
    return frozenset(revisions - downs)


def _at_head(engine: Engine) -> bool:
    """The version table names exactly the code's head (one SELECT). On SQLite the same transaction
    also rewrites the header's user_version, so a read-only file fails at start-up as on the full path.
    Any error (no version table yet, read-only, locked) answers False: the full path says what is wrong."""
    with engine.connect() as conn:
        try:
            if set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()) != code_heads():
                return False
            if conn.dialect.name == "sqlite":
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            conn.commit()
            return True
        except DBAPIError:
            return False


def _alembic_config() -> Config:
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(cfg: Config, conn: Connection) -> bool:
    """Upgrade to head on `conn`, inside its transaction; True when a migration ran."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    script = ScriptDirectory.from_config(cfg)
    before = set(MigrationContext.configure(conn).get_current_heads())
    unknown = before - {s.revision for s in script.walk_revisions()}
    if unknown:
        raise SchemaTooNew(T.DB_SCHEMA_TOO_NEW.format(
            revision="、".join(sorted(unknown)), head=script.get_current_head(), url=_shown(conn.engine.url)))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
    return set(MigrationContext.configure(conn).get_current_heads()) != before


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite foreign keys unenforced on `conn` until the block ends; `conn` must not be in a transaction.
    The PRAGMAs go to the DBAPI connection: through `conn` they would begin one first (see _on_begin)."""
    raw: Any = conn.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
        if raw.execute("PRAGMA foreign_keys").fetchone()[0] != 1:    # still in a transaction: never pool it
            conn.invalidate()


def _check_foreign_keys(conn: Connection) -> None:
    """Refuse (and so roll back) a migration that left a row referencing a missing one."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, _rowid, parent, _fk = broken[0]
        raise DatabaseProblem(T.DB_FOREIGN_KEYS_BROKEN.format(
            table=table, parent=parent, rows=len(broken), url=_shown(conn.engine.url)))


def schema_status(engine: Engine) -> tuple[set[str], str | None]:
    """(the database's Alembic revisions, the code's head), without migrating (`reception-bot doctor`)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()), head


def database_time(engine: Engine) -> datetime:
    """The database server's clock, in UTC (SQLite: this machine's, read through SQLite)."""
    with engine.connect() as conn:
        value: Any = conn.exec_driver_sql("SELECT CURRENT_TIMESTAMP").scalar()
    if isinstance(value, str):                                  # SQLite: "YYYY-MM-DD HH:MM:SS" in UTC
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
