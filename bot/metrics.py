"""What /metrics counts (Prometheus, prometheus-client), in one process-wide registry.

Counters are bumped where the thing happens (the bus, the sweep, the adapters, the watchdog); what the
database already knows (the outbox) and what the watchdog holds (each platform's last frame) is read
when /metrics is scraped, by `ScrapeTime`, so no figure is kept in two places.
Counters start at 0 with the process, as Prometheus expects (`rate()` and `increase()` handle restarts);
`reception_feishu_api_calls_total{month}` is this process's calls in that month (Beijing time): the
Basic plan's monthly quota is best watched as `sum(increase(...[31d]))` in Prometheus.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

disable_created_metrics()          # no *_created series: they double the output and no alert uses them
REGISTRY = CollectorRegistry()
FEISHU_MONTH_TZ = ZoneInfo("Asia/Shanghai")      # Feishu's quota month

COMMANDS = Counter("reception_commands", "Messages handled, by command verb and result "
                   "(ok, refused, error, unknown, hint, usage, duplicate)", ["verb", "result"], registry=REGISTRY)
OUTBOX_RETRIED = Counter("reception_outbox_retried", "Outbox messages claimed again for another send",
                         registry=REGISTRY)
OUTBOX_SEND_FAILED = Counter("reception_outbox_send_failed", "Sends that failed (the message is tried again later)",
                             registry=REGISTRY)
RECONNECTS = Counter("reception_platform_reconnects", "Platform connections restarted, by platform and reason",
                     ["platform", "reason"], registry=REGISTRY)
RATE_LIMITED = Counter("reception_rate_limit_hits", "Rate-limit answers (Feishu 99991400 or HTTP 429)",
                       ["platform"], registry=REGISTRY)
JOBS = Counter("reception_scheduled_jobs", "Scheduled messages produced (opening, reminders, summaries …), by kind",
               ["kind"], registry=REGISTRY)
SWEEPS = Counter("reception_sweeps", "Sweeps run (due work and re-sends), by result", ["result"], registry=REGISTRY)
FEISHU_CALLS = Counter("reception_feishu_api_calls", "Feishu open-platform API calls, by month (Beijing time)",
                       ["month"], registry=REGISTRY)


def feishu_call(now: datetime) -> None:
    """One Feishu API call at `now` (the adapter's clock)."""
    FEISHU_CALLS.labels(now.astimezone(FEISHU_MONTH_TZ).strftime("%Y-%m")).inc()


class ScrapeTime(Collector):
    """Gauges read when scraped: `read()` returns {name: (help, value or {label value: value}, label name)}."""

    def __init__(self, read: Callable[[], dict]):
        self.read = read

    def collect(self) -> Iterable[Metric]:
        for name, (doc, value, label) in self.read().items():
            if isinstance(value, dict):
                g = GaugeMetricFamily(name, doc, labels=[label])
                for k, v in value.items():
                    g.add_metric([k], v)
            else:
                g = GaugeMetricFamily(name, doc, value=value)
            yield g


class _Shared(Collector):
    """The process-wide counters, inside a per-server registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry_for(*collectors: Collector) -> CollectorRegistry:
    """A registry for one /metrics endpoint: the shared counters and this server's scrape-time gauges."""
    reg = CollectorRegistry()
    reg.register(_Shared())
    for c in collectors:
        reg.register(c)
    return reg
