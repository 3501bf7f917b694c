"""bot.metrics' own counters (issue 23 item 5: prometheus-client is imported when /metrics is scraped,
not at every start-up): counted under a lock, exported as Prometheus counters."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from prometheus_client import generate_latest

from bot import metrics
from tests.conftest import ROOT
from tests.waits import patience


@pytest.fixture
def counter(monkeypatch):
    monkeypatch.setattr(metrics, "COUNTERS", [])
    return metrics.Counter("t_things", "Things, by colour", ["colour"])


def test_counts_by_label_and_exports_as_counters(counter):
    counter.labels("红").inc()
    counter.labels("红").inc(2)
    counter.labels("蓝")                              # named, not yet counted: shown at 0
    plain = metrics.Counter("t_plain", "Plain")
    plain.inc()
    text = generate_latest(metrics.registry_for()).decode()
    assert 't_things_total{colour="红"} 3.0' in text
    assert 't_things_total{colour="蓝"} 0.0' in text
    assert "t_plain_total 1.0" in text
    assert "# TYPE t_things_total counter" in text and "_created" not in text


def test_the_process_registry_sees_the_counts(counter):
    counter.labels("绿").inc()
    assert metrics.REGISTRY.get_sample_value("t_things_total", {"colour": "绿"}) == 1.0


def test_wrong_labels_and_going_down_are_refused(counter):
    with pytest.raises(ValueError):
        counter.labels("红", "大")
    with pytest.raises(ValueError):
        counter.inc()                                   # counted by colour: a label is needed
    with pytest.raises(ValueError):
        counter.labels("红").inc(-1)
    assert counter.samples() == [(("红",), 0.0)]


def test_threads_lose_no_count(counter):
    child = counter.labels("红")

    def bump():
        for _ in range(2000):
            child.inc()
    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.samples() == [(("红",), 16000.0)]


def test_a_command_process_does_not_load_prometheus_client():
    code = "import sys, bot.cli; print('prometheus_client' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=patience(120))
    assert r.stdout.strip() == "False", r.stderr
