"""/healthz, /readyz and /metrics, as answers (bot/adapters/web/ops.py serves them).

- alive: the process answers; nothing else is checked (a database outage must not get it killed).
- ready: the database answers a query, every watched platform connection is up with a frame inside the
  watchdog window, and no outbox message has waited more than OUTBOX_LATE to be sent. Each failure is
  one line naming what failed.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from bot.clock import Clock
from bot.metrics import ScrapeTime, registry_for
from bot.watchdog import Watchdog
from storage.db import explain
from storage.uow import UnitOfWork

OUTBOX_LATE = timedelta(minutes=5)


class Health:
    def __init__(self, engine: Engine, clock: Clock, watchdog: Watchdog | None = None,
                 outbox_late: timedelta = OUTBOX_LATE):
        self.engine, self.clock, self.outbox_late = engine, clock, outbox_late
        self.watchdog = watchdog or Watchdog()

    def problems(self) -> list[str]:
        """Empty when ready; else one line per failed check."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            outbox = self.outbox()
        except Exception as e:
            return [f"database: {explain(e, self.engine.url) or type(e).__name__}"]
        late = [f"outbox: {outbox['late']:.0f} message(s) unsent for over {self.outbox_late.seconds // 60} minutes "
                f"(oldest {outbox['oldest_seconds']:.0f} s)"] if outbox["late"] else []
        return self.watchdog.problems() + late

    def outbox(self) -> dict[str, float]:
        with UnitOfWork(self.engine, readonly=True) as uow:
            return uow.outbox.health(self.clock.now(), self.outbox_late)

    def gauges(self) -> dict:
        """The scrape-time gauges: the outbox (from the database) and each platform's last frame age."""
        try:
            ob = self.outbox()
        except Exception:           # the database is down: /readyz says so; the counters still answer
            ob = {}
        w = self.watchdog
        ages = {a.platform: age for a in w.watched if (age := w.age(a)) is not None}
        out = {f"reception_outbox_{k}": (doc, ob[k], "") for k, doc in (
            ("pending", "Outbox messages due and not yet sent"),
            ("retrying", "Unsent outbox messages already tried more than once"),
            ("failed", "Outbox messages given up after every retry (managers were told)"),
            ("oldest_seconds", "Age of the oldest unsent due outbox message, in seconds")) if k in ob}
        out["reception_last_event_age_seconds"] = ("Seconds since the last frame, event or heartbeat, by platform",
                                                   ages, "platform")
        out["reception_platform_up"] = ("1 when the platform connection is up (watchdog)",
                                        {a.platform: float(w.up(a)) for a in w.watched}, "platform")
        return out

    def registry(self):
        return registry_for(ScrapeTime(self.gauges))
