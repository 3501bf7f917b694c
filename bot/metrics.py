"""What /metrics counts (Prometheus text format, exported by prometheus-client when scraped).

Counters are bumped where the thing happens (the bus, the sweep, the adapters, the watchdog); what the
database already knows (the outbox) and what the watchdog holds (each platform's last frame) is read
when /metrics is scraped, by `ScrapeTime`, so no figure is kept in two places.
Counters start at 0 with the process, as Prometheus expects (`rate()` and `increase()` handle restarts);
`reception_feishu_api_calls_total{month}` is this process's calls in that month (Beijing time): the
Basic plan's monthly quota is best watched as `sum(increase(...[31d]))` in Prometheus.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

FEISHU_MONTH_TZ = ZoneInfo("Asia/Shanghai")      # Feishu's quota month


class Counter:
    """A counter of this process, by label values, bumped where the thing happens. It is a dict under a
    lock, not prometheus-client's Counter: that library is ~25 ms of every start-up and a one-shot
    `say` never serves /metrics; `REGISTRY` exports every counter, as Prometheus counters, when scraped."""

    def __init__(self, name: str, doc: str, labels: Iterable[str] = ()):
        self.name, self.doc, self.label_names = name, doc, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {} if self.label_names else {(): 0.0}
        self._lock = threading.Lock()
        COUNTERS.append(self)

    def labels(self, *values: str) -> _Child:
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.name}: labels {self.label_names}, given {values}")
        key = tuple(str(v) for v in values)
        with self._lock:
            self._values.setdefault(key, 0.0)
        return _Child(self, key)

    def inc(self, amount: float = 1) -> None:
        if self.label_names:
            raise ValueError(f"{self.name}: counted by {self.label_names}: use labels(...)")
        self._add((), amount)

    def _add(self, key: tuple[str, ...], amount: float) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter only goes up ({amount})")
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def samples(self) -> list[tuple[tuple[str, ...], float]]:
        with self._lock:
            return list(self._values.items())


class _Child:
    __slots__ = ("counter", "key")

    def __init__(self, counter: Counter, key: tuple[str, ...]):
        self.counter, self.key = counter, key

    def inc(self, amount: float = 1) -> None:
        self.counter._add(self.key, amount)


COUNTERS: list[Counter] = []

COMMANDS = Counter("reception_commands", "Messages handled, by command verb and result "
                   "(ok, refused, error, unknown, hint, usage, duplicate)", ["verb", "result"])
OUTBOX_RETRIED = Counter("reception_outbox_retried", "Outbox messages claimed again for another send")
OUTBOX_SEND_FAILED = Counter("reception_outbox_send_failed", "Sends that failed (the message is tried again later)")
RECONNECTS = Counter("reception_platform_reconnects", "Platform connections restarted, by platform and reason",
                     ["platform", "reason"])
RATE_LIMITED = Counter("reception_rate_limit_hits", "Rate-limit answers (Feishu 99991400 or HTTP 429)",
                       ["platform"])
JOBS = Counter("reception_scheduled_jobs", "Scheduled messages produced (opening, reminders, summaries …), by kind",
               ["kind"])
SWEEPS = Counter("reception_sweeps", "Sweeps run (due work and re-sends), by result", ["result"])
FEISHU_CALLS = Counter("reception_feishu_api_calls", "Feishu open-platform API calls, by month (Beijing time)",
                       ["month"])


class _Counters:
    """Every counter as a Prometheus counter family (`name_total`), read when scraped."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily
        for c in COUNTERS:
            family = CounterMetricFamily(c.name, c.doc, labels=c.label_names)
            for key, value in c.samples():
                family.add_metric(list(key), value)
            yield family


def __getattr__(name: str):
    if name == "REGISTRY":                  # the process-wide counters' registry, made on first use
        return _registry()
    raise AttributeError(name)


@cache
def _registry():
    from prometheus_client import CollectorRegistry
    reg = CollectorRegistry()
    reg.register(_Counters())
    return reg


def feishu_call(now: datetime) -> None:
    """One Feishu API call at `now` (the adapter's clock)."""
    FEISHU_CALLS.labels(now.astimezone(FEISHU_MONTH_TZ).strftime("%Y-%m")).inc()


class ScrapeTime:
    """Gauges read when scraped: `read()` returns {name: (help, value or {label value: value}, label name)}."""

    def __init__(self, read: Callable[[], dict]):
        self.read = read

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        for name, (doc, value, label) in self.read().items():
            if isinstance(value, dict):
                g = GaugeMetricFamily(name, doc, labels=[label])
                for k, v in value.items():
                    g.add_metric([k], v)
            else:
                g = GaugeMetricFamily(name, doc, value=value)
            yield g


def registry_for(*collectors):
    """A registry for one /metrics endpoint: the process-wide counters and this server's scrape-time gauges."""
    from prometheus_client import CollectorRegistry
    reg = CollectorRegistry()
    reg.register(_Counters())
    for c in collectors:
        reg.register(c)
    return reg
