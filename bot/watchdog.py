"""A watchdog for deaf connections: any platform adapter that says when its last frame arrived.

A long connection can look alive and deliver nothing (lark-oapi #119, a receive loop that died while
the process says "connected", an account with little traffic that never reconnects). An adapter that
implements `Watched` is checked every few seconds: when no frame, event or heartbeat has arrived for
`window` seconds (or it says it is not connected), it is restarted in place; /readyz fails until a
frame arrives again; when it stays down longer than `alert_after`, `tell(platform, minutes)` is called
once (the runner tells the managers privately), and once more when it is back.
Times here are monotonic seconds (durations, not the time of day).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot import metrics

log = logging.getLogger("reception")
WINDOW_S = 120.0            # a long connection's heartbeat comes every 120 s (Feishu's PingInterval)
ALERT_AFTER_S = 600.0       # managers are told after 10 minutes down


class Watched(Protocol):
    platform: str

    def last_frame(self) -> float | None:
        """time.monotonic() of the last frame, event or heartbeat received (None: none yet)."""

    def connected(self) -> bool:
        """The connection is open, as far as the adapter knows (a property of that name is read too)."""

    def restart(self) -> None:
        """Close the connection and open a new one, in place (same adapter, same queues)."""


@dataclass
class _State:
    since: float                     # watched from (start, or the last restart): the window counts from here
    down_since: float | None = None
    told: bool = False


class Watchdog:
    def __init__(self, tell: Callable[[str, int, bool], None] | None = None, window: float = WINDOW_S,
                 alert_after: float = ALERT_AFTER_S, monotonic: Callable[[], float] = time.monotonic):
        self.tell, self.window, self.alert_after, self.monotonic = tell, window, alert_after, monotonic
        self.watched: list[Watched] = []
        self._state: dict[int, _State] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, adapter: Watched) -> None:
        with self._lock:
            self.watched.append(adapter)
            self._state[id(adapter)] = _State(self.monotonic())

    def up(self, a: Watched, now: float | None = None) -> bool:
        """Connected, and a frame within the window."""
        now, last = self.monotonic() if now is None else now, a.last_frame()
        return _connected(a) and last is not None and now - last <= self.window

    def age(self, a: Watched) -> float | None:
        last = a.last_frame()
        return None if last is None else self.monotonic() - last

    def problems(self) -> list[str]:
        """What /readyz names: each platform that is down, and why."""
        out = []
        for a in list(self.watched):
            if not _connected(a):
                out.append(f"{a.platform}: not connected")
            elif not self.up(a):
                age = self.age(a)
                out.append(f"{a.platform}: no frame for {age:.0f} s (window {self.window:.0f} s)" if age is not None
                           else f"{a.platform}: no frame yet")
        return out

    def check(self) -> None:
        """One pass: restart the deaf, tell the managers about a long outage (and its end)."""
        for a in list(self.watched):
            try:
                self._check(a, self._state[id(a)], self.monotonic())
            except Exception:
                log.exception("watchdog: checking %s failed", a.platform)

    def _check(self, a: Watched, st: _State, now: float) -> None:
        if self.up(a, now):
            if st.told and self.tell:
                self.tell(a.platform, round((now - (st.down_since or now)) / 60), True)
            st.down_since, st.told = None, False
            return
        st.down_since = st.down_since if st.down_since is not None else max(a.last_frame() or st.since, st.since)
        if now - max(a.last_frame() or st.since, st.since) > self.window:
            log.warning("watchdog: %s deaf for over %.0f s: restarting it", a.platform, self.window)
            metrics.RECONNECTS.labels(a.platform, "watchdog").inc()
            st.since = now
            a.restart()
        if not st.told and now - st.down_since > self.alert_after and self.tell:
            st.told = True
            self.tell(a.platform, round((now - st.down_since) / 60), False)

    # ---- its thread ----
    def start(self, every: float | None = None) -> Watchdog:
        every = every if every is not None else max(0.05, min(5.0, self.window / 4))
        self._thread = threading.Thread(target=self._run, args=(every,), name="watchdog", daemon=True)
        self._thread.start()
        return self

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def _connected(a: Watched) -> bool:
    c = a.connected
    return bool(c() if callable(c) else c)
