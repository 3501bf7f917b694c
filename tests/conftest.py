"""Shared fixtures: configs, a fake clock, and a throwaway PostgreSQL 15 cluster.

PostgreSQL tests skip with a clear message only where no PostgreSQL binaries
exist; with CI set, that skip is a failure.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent

BASIC_CONFIG = """
timezone: Asia/Shanghai
policy: {preset: %(preset)s}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [张经理]
    salespeople: [李四, 王五, 赵六, 钱七]
"""


def at(s: str) -> datetime:
    """'2026-11-27 09:05' in the project's zone."""
    return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


@pytest.fixture
def config_file(tmp_path):
    def make(preset: str = "real_estate", text: str | None = None) -> Path:
        p = tmp_path / f"config_{preset}.yaml"
        p.write_text(text or BASIC_CONFIG % {"preset": preset}, encoding="utf-8")
        return p
    return make


def _pg_bin() -> str | None:
    found = shutil.which("initdb")
    if found:
        return str(Path(found).resolve().parent)
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(cands[-1]).parent) if cands else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL cluster of our own on a free port, stopped at the end of the session."""
    bindir = _pg_bin()
    if bindir is None:
        msg = "PostgreSQL binaries (initdb, pg_ctl) not found: PostgreSQL tests skipped"
        if os.environ.get("CI"):
            pytest.fail(msg + " — and CI is set, so this is a failure")
        pytest.skip(msg)
    base = Path(tempfile.mkdtemp(prefix="reception-pg-"))
    data, port = base / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:            # initdb refuses to run as root
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_user + [f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                              "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(base / "log"),
                              "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database in the throwaway cluster."""
    import psycopg
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each integration test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/reception.db"
    return request.getfixturevalue("pg_url")
