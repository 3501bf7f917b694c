"""A throwaway PostgreSQL cluster for the tests and the benchmarks (a development helper).

Both tests/conftest.py and bench/_common.py start a cluster of their own: initdb (as the
`postgres` user when running as root, since initdb refuses root), pg_ctl on a free port with
the unix socket in the temp dir, and always stop and remove it at the end. This module is the
one place that does it.

Why here and not a top-level `devtools/` package: the top-level layout is fixed (bot/ handlers/
storage/ tests/ plus rules/), and storage/ is the layer that knows PostgreSQL. The module
imports nothing of ours and only the standard library at import time (psycopg, already a
dependency, only in `create_database`), so it breaks no layer contract and costs the
installed package nothing; the bot itself never imports it.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def bindir() -> str | None:
    """The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        return str(Path(found).resolve().parent)
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(cands[-1]).parent) if cands else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def version() -> str:
    """`postgres --version`, or "n/a" without binaries."""
    pg_bindir = bindir()
    if not pg_bindir:
        return "n/a"
    r = subprocess.run([f"{pg_bindir}/postgres", "--version"], capture_output=True, text=True)
    return r.stdout.strip()


@contextmanager
def cluster(*, fsync: bool = True, max_connections: int = 50, extra: str = "",
            stop_mode: str = "fast") -> Iterator[str | None]:
    """Yield a server URL (postgresql+psycopg://postgres@127.0.0.1:PORT), or None without binaries.

    `extra`: more `-c name=value` server options. `stop_mode` is pg_ctl's `-m`: "fast" ends the
    clients' sessions cleanly, "immediate" just stops (the tests: nothing there is worth keeping).
    """
    pg_bindir = bindir()
    if pg_bindir is None:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="reception-pg-"))
    data, port = base / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:                         # initdb refuses to run as root
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(as_user + [f"{pg_bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        server = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
                  f" -c fsync={'on' if fsync else 'off'} {extra}")
        subprocess.run(as_user + [f"{pg_bindir}/pg_ctl", "-D", str(data), "-o", server, "-l", str(base / "log"),
                                  "-w", "start"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_user + [f"{pg_bindir}/pg_ctl", "-D", str(data), "-m", stop_mode, "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def create_database(server: str, prefix: str) -> str:
    """A fresh, empty database in the cluster at `server`; returns its URL."""
    import psycopg
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
