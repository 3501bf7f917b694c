"""The local console chat of `reception-bot run` without platform credentials.

Type `李四: 到访 张三 13812345678` (or `李四(私聊): …`); a line without a name is said by the last
speaker. Replies, and what the sweep sends, are printed as transcript lines (bot/transcript.py).
"""
from __future__ import annotations

import sys
import threading

from bot.transcript import LINE, fmt
from handlers.messages import Incoming, Outgoing
from rules import texts as T

QUIT = ("exit", "quit", "退出")


class ConsoleAdapter:
    """Reads chat lines from `stdin`, prints replies on `stdout`; `send` is safe from the sweep's thread."""

    def __init__(self, app, project: str, stdin=None, stdout=None):
        self.app, self.project = app, project
        self.stdin, self.stdout = stdin or sys.stdin, stdout or sys.stdout
        self.tz = app.projects[project].tz
        self._lock = threading.Lock()
        self._last: str | None = None           # the last speaker: a line without a name is theirs

    def start(self) -> None:
        """The greeting: project, database, how to type, who is on the roster, and the shift hours."""
        ps = self.app.projects[self.project]
        self._print(T.CONSOLE_HEAD.format(project=self.project, db=self.app.engine.url.render_as_string()))
        self._print(T.CONSOLE_HOW)
        self._print(T.CONSOLE_WHO.format(names="、".join(ps.salespeople), managers="、".join(ps.managers)))
        now = self.app.clock.now().astimezone(self.tz).time()
        if not ps.shift_start <= now < ps.shift_end:
            self._print(T.CONSOLE_OFF_SHIFT.format(start=f"{ps.shift_start:%H:%M}", end=f"{ps.shift_end:%H:%M}"))

    def send(self, msgs: list[Outgoing]) -> set[str]:
        """Print `msgs` (from any thread); printed is sent: no key fails."""
        with self._lock:
            for o in msgs:
                print(fmt(o, self.app.clock.now().astimezone(self.tz)), file=self.stdout)
            self.stdout.flush()
        return set()

    def run(self) -> int:
        """Read until end of input, `exit`/`quit`/`退出` or Ctrl-C; each line handled and its replies printed."""
        try:
            for raw in self.stdin:
                line = raw.strip()
                if line in QUIT:
                    break
                if line:
                    self._line(line)
        except KeyboardInterrupt:
            pass
        return 0

    def _line(self, line: str) -> None:
        mt = LINE.match(f"[2000-01-01 00:00] {line}")
        if mt:
            self._last, private, text = mt.group(2).strip(), bool(mt.group(3)), mt.group(4)
        elif self._last:
            private, text = False, line
        else:
            self._print(T.CONSOLE_FORMAT)
            return
        now = self.app.clock.now().astimezone(self.tz)
        msg = Incoming("console", self._last, text, now, private=private, project=self.project)
        outs = self.app.handle(msg)
        self.app.mark_sent([o.key for o in outs], now)      # before printing: never printed twice
        self.send(outs)

    def _print(self, text: str) -> None:
        print(text, file=self.stdout)
