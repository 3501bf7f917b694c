"""The sweep: every SWEEP_SECONDS, what is due to be sent again and the due work, sent and marked.

One APScheduler 3 job per process sweeps the database for due work (the database, not the job
store, knows what is due), so several processes may run side by side. `deliver(msgs)` sends through
the adapters and returns the keys it could not send; `fan_out` builds one from several platforms.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot import metrics
from bot.clock import SystemClock
from handlers.messages import Outgoing

log = logging.getLogger("reception")
SWEEP_SECONDS = 30
Deliver = Callable[[list[Outgoing]], "set[str] | None"]


def settle(app, msgs: list[Outgoing], deliver: Deliver, now: datetime) -> None:
    """Send `msgs` (all in the outbox) and mark each sent, or failed: sent again later, same key.
    `deliver` returns the keys it could not send (raising: none was sent)."""
    try:
        failed = set(deliver(msgs) or ())
    except Exception:
        log.exception("sending %d message(s) failed; they are sent again later", len(msgs))
        failed = {o.key for o in msgs}
    app.mark_sent([o.key for o in msgs if o.key not in failed], now)
    app.send_failed(sorted(failed), now)
    metrics.OUTBOX_SEND_FAILED.inc(len(failed))


def sweep_once(app, deliver: Deliver, now: datetime) -> list[Outgoing]:
    """One sweep: the due work (a catch-up first drops a past day's unsent announcements and says so),
    then what is due to be sent again (same keys); sent and marked."""
    due, again = app.run_due(now), app.reclaim_unsent(now)
    metrics.OUTBOX_RETRIED.inc(len(again))
    msgs = due + again
    if msgs:
        settle(app, msgs, deliver, now)
    return msgs


def start_scheduler(app, deliver: Deliver) -> BackgroundScheduler:
    """Every SWEEP_SECONDS: run due work, re-send what is due again, deliver it and mark it
    (coalesced, never overlapping). The first sweep runs at once: APScheduler times its interval on the
    real clock, while each sweep asks the app's clock what is due."""
    def sweep():
        try:
            sweep_once(app, deliver, app.clock.now())
            metrics.SWEEPS.labels("ok").inc()
        except Exception:
            metrics.SWEEPS.labels("failed").inc()
            log.exception("scheduled sweep failed; it runs again in %s s", SWEEP_SECONDS)

    sched = BackgroundScheduler(timezone=UTC)
    sched.add_job(sweep, "interval", seconds=SWEEP_SECONDS, coalesce=True, max_instances=1,
                  misfire_grace_time=None, next_run_time=SystemClock().now(), id="sweep")
    sched.start()
    return sched


def fan_out(channels: list[tuple[str, Deliver]]) -> Deliver:
    """One `deliver` over several platforms: a message goes through its own platform (None: every one);
    one platform's outage does not hold back the others."""
    def deliver(msgs: list[Outgoing]) -> set[str]:
        failed: set[str] = set()
        for name, send in channels:
            mine = [o for o in msgs if o.platform in (None, name)]
            try:
                failed |= set(send(mine) or ()) if mine else set()
            except Exception:
                log.exception("sending %d message(s) through %s failed", len(mine), name)
                failed |= {o.key for o in mine}
        return failed

    return deliver
