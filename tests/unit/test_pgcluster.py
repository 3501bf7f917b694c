"""storage/pgcluster.py, the one throwaway-cluster set-up of the tests and the benchmarks.

The cluster itself is exercised by every PostgreSQL test (tests/conftest.py `pg_server`);
these check the edges that those tests never reach.
"""
from __future__ import annotations

import socket

from storage import pgcluster


def test_without_postgresql_binaries_the_cluster_is_none_and_nothing_runs(monkeypatch):
    monkeypatch.setattr(pgcluster, "bindir", lambda: None)
    ran = []
    monkeypatch.setattr(pgcluster.subprocess, "run", lambda *a, **k: ran.append(a))
    with pgcluster.cluster() as server:
        assert server is None
    assert ran == []
    assert pgcluster.version() == "n/a"


def test_free_port_can_be_bound_on_localhost():
    port = pgcluster.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        assert s.getsockname()[1] == port
