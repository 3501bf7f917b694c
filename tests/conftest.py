"""Shared fixtures: configs, the tests' wall clock (tests/clock.py), and a throwaway PostgreSQL 15 cluster.

PostgreSQL tests skip with a clear message only where no PostgreSQL binaries
exist; with CI set, that skip is a failure.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from storage import pgcluster
from tests.clock import WALL

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


def fixed(s: str = "2026-12-02 03:00") -> FakeClock:
    """A clock standing still at `s` (project time), for an App whose messages carry their own times.
    The default sets the project up in the small hours of TEST_DAY: nothing is scheduled before its 09:00."""
    return FakeClock(at(s))


@pytest.fixture
def wall():
    """The tests' running wall clock (tests/clock.py); a test using it is clock-sensitive (marker `clock`)."""
    return WALL


def pytest_configure(config):
    config.addinivalue_line("markers", "clock: reads the tests' wall clock; CI runs it at 03:00 and at 14:00")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "wall" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.clock)


@pytest.fixture
def config_file(tmp_path):
    def make(preset: str = "real_estate", text: str | None = None) -> Path:
        p = tmp_path / f"config_{preset}.yaml"
        p.write_text(text or BASIC_CONFIG % {"preset": preset}, encoding="utf-8")
        return p
    return make


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL cluster of our own on a free port, stopped at the end of the session."""
    with pgcluster.cluster(fsync=False, max_connections=200, stop_mode="immediate") as server:
        if server is None:
            msg = "PostgreSQL binaries (initdb, pg_ctl) not found: PostgreSQL tests skipped"
            if os.environ.get("CI"):
                pytest.fail(msg + " — and CI is set, so this is a failure")
            pytest.skip(msg)
        yield server


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database in the throwaway cluster."""
    return pgcluster.create_database(pg_server, "t_")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each integration test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/reception.db"
    return request.getfixturevalue("pg_url")
