"""The installed `reception-bot` program (pyproject's console script): `bot.cli` with a start-up and
an exit tuned for the one-shot commands an office scripts (`say` runs in about 0.6 s on 2 cores).

- The garbage collector is off while the modules load: importing builds some hundred thousand objects
  that all live as long as the process, and the collections they trigger find nothing (~0.08 s). The
  survivors are then frozen (`gc.freeze`) so that later collections do not walk them again.
- A one-shot command ends with `os._exit` once its output is flushed and its database closed
  (`bot.cli.main(fast_exit=True)`): the interpreter's teardown of every loaded module is ~0.15 s.
"""
from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    try:
        from bot.cli import main as cli
    finally:
        gc.freeze()
        gc.enable()
    return cli(fast_exit=True)
