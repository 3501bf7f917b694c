"""`reception-bot backup PATH` and `restore PATH`: a consistent copy while the bot runs, and back into a fresh database.

SQLite: the online backup API (`sqlite3.Connection.backup`), which copies a consistent snapshot while
other connections write (WAL). PostgreSQL: `pg_dump --format=custom` (one snapshot, other sessions go on)
and `pg_restore` into an empty database; without those binaries the refusal prints the exact commands.
A restore goes only into a database with no tables: it never overwrites a live register.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from rules import texts as T
from storage.db import make_engine


class BackupProblem(Exception):
    """Why a backup or a restore was not made: one line."""


def backup(url: str, path: str | Path) -> str:
    """Copy the database at `url` to `path` (a file); what was done, in one line."""
    u, path = _url(url), Path(path)
    if path.exists():
        raise BackupProblem(T.BACKUP_EXISTS.format(path=path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if u.get_backend_name() == "sqlite":
        with closing(_sqlite(u)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
    else:
        _pg("pg_dump", ["--format=custom", "--no-owner", "--file", str(path)], u,
            T.BACKUP_PG_BY_HAND.format(cmd=f"pg_dump --format=custom --no-owner --file {path} {_libpq(u)}"))
    return T.BACKUP_DONE.format(path=path, size=path.stat().st_size)


def restore(url: str, path: str | Path) -> str:
    """Load the backup at `path` into the empty database at `url`; what was done, in one line."""
    u, path = _url(url), Path(path)
    if not path.is_file():
        raise BackupProblem(T.RESTORE_NO_FILE.format(path=path))
    _must_be_empty(url)
    if u.get_backend_name() == "sqlite":
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src, closing(_sqlite(u)) as dst:
                src.execute("SELECT count(*) FROM alembic_version").fetchone()     # one of ours, not any file
                src.backup(dst)
        except sqlite3.DatabaseError as e:
            raise BackupProblem(T.RESTORE_NOT_A_BACKUP.format(path=path, why=e)) from None
    else:
        _pg("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", str(path)], u,
            T.BACKUP_PG_BY_HAND.format(cmd=f"pg_restore --no-owner --no-privileges --exit-on-error "
                                           f"--dbname {_libpq(u)} {path}"))
    return T.RESTORE_DONE.format(path=path, url=u.render_as_string(hide_password=True))


def _url(url: str) -> URL:
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:"):
        raise BackupProblem(T.BACKUP_MEMORY)
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupProblem(T.DB_UNSUPPORTED.format(url=u.render_as_string(hide_password=True)))
    return u


def _sqlite(u: URL) -> sqlite3.Connection:
    path = u.database or ":memory:"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(path, timeout=60)


def _must_be_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupProblem(T.RESTORE_NOT_EMPTY.format(n=len(tables)))


def _libpq(u: URL) -> str:
    """The URL as libpq reads it (postgresql://…, no driver name) and without its password (PGPASSWORD)."""
    return u.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)


def _pg(tool: str, args: list[str], u: URL, by_hand: str) -> None:
    """Run a PostgreSQL client tool on `u` (its password in PGPASSWORD, never on the command line)."""
    exe = shutil.which(tool) or _in_pg_bindir(tool)
    if exe is None:
        raise BackupProblem(T.BACKUP_NO_TOOL.format(tool=tool, by_hand=by_hand))
    env = {**os.environ, **({"PGPASSWORD": str(u.password)} if u.password else {})}
    done = subprocess.run([exe, *args, "--dbname", _libpq(u)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupProblem(T.BACKUP_TOOL_FAILED.format(tool=tool, why=(done.stderr.strip().splitlines() or ["?"])[-1]))


def _in_pg_bindir(tool: str) -> str | None:
    from storage.pgcluster import bindir
    d = bindir()
    return str(Path(d) / tool) if d and (Path(d) / tool).exists() else None
