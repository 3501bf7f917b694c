"""What a platform adapter did with a batch of messages, recorded in one place: the sent ones marked
sent, the failed ones marked for a retry (the sweep sends them again under the same key)."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.clock import Clock
from handlers.messages import BotPort, Outgoing

log = logging.getLogger(__name__)


def record(bot: BotPort, clock: Clock, msgs: Iterable[Outgoing], failed: set[str], platform: str) -> None:
    """Mark what went out sent and what did not as failed; never raises (unmarked messages are sent
    again after their lease, unless marked sent by then)."""
    msgs = list(msgs)
    try:
        now = clock.now()
        bot.mark_sent([o.key for o in msgs if o.key not in failed], now)
        bot.send_failed(sorted(failed), now)
    except Exception:
        log.exception("%s: cannot record the outcome of %d message(s)", platform, len(msgs))
