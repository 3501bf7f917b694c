"""Shared helpers for the benchmarks: a throwaway PostgreSQL cluster, percentiles, markdown tables.

The PostgreSQL cluster is started the same way tests/conftest.py does it (initdb as the
`postgres` user when running as root, pg_ctl on a free port, unix socket in the temp dir)
and is always stopped and removed at the end.
"""
from __future__ import annotations

import glob
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import unicodedata
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # `python bench/x.py` from anywhere: import bot, storage, handlers
    sys.path.insert(0, str(ROOT))


# ---- PostgreSQL ------------------------------------------------------------------------------
def pg_bindir() -> str | None:
    found = shutil.which("initdb")
    if found:
        return str(Path(found).resolve().parent)
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(cands[-1]).parent) if cands else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def pg_cluster(fsync: bool = True, extra: str = ""):
    """Yield a server URL (postgresql+psycopg://postgres@127.0.0.1:PORT) or None without binaries."""
    bindir = pg_bindir()
    if bindir is None:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="reception-bench-pg-"))
    data, port = base / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:                         # initdb refuses to run as root
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(as_user + [f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=50"
                f" -c fsync={'on' if fsync else 'off'} {extra}")
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(base / "log"),
                                  "-w", "start"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def pg_version(bindir: str | None = None) -> str:
    bindir = bindir or pg_bindir()
    if not bindir:
        return "n/a"
    r = subprocess.run([f"{bindir}/postgres", "--version"], capture_output=True, text=True)
    return r.stdout.strip()


def pg_create_db(server: str, prefix: str = "bench") -> str:
    import psycopg
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


# ---- numbers -----------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an unsorted list."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def _w(s: str) -> int:
    """Display width in a terminal (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A GitHub markdown table, padded for a monospace terminal; `align` like 'lrrr'."""
    cells = [[str(c) for c in r] for r in rows]
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(3, _w(h), *(_w(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def pad(v, i):
        fill = " " * (widths[i] - _w(v))
        return v + fill if align[i] == "l" else fill + v

    def sep(i):
        w = widths[i]
        return ":" + "-" * (w - 1) if align[i] == "l" else "-" * (w - 1) + ":"

    def line(vals):
        return "| " + " | ".join(pad(v, i) for i, v in enumerate(vals)) + " |"
    return "\n".join([line(headers), "| " + " | ".join(sep(i) for i in range(len(headers))) + " |"]
                     + [line(r) for r in cells])


def machine() -> str:
    import sqlite3

    import sqlalchemy
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()} · {os.cpu_count()} cores ({cpu}) · Python {platform.python_version()}"
            f" · SQLAlchemy {sqlalchemy.__version__} · SQLite {sqlite3.sqlite_version} · {pg_version()}")
