"""Every measure needed to use wechaty 0.10.7 (python-wechaty, unmaintained) on Python 3.11.

Import the SDK only through `import_wechaty()`; nothing else in the project patches it.

1. `wechaty.WechatyOptions` uses `PuppetOptions()` as a dataclass default. Python 3.11 rejects an
   unhashable default ("mutable default ... use default_factory"), so `PuppetOptions` gets the
   identity hash before `wechaty` is imported. The default instance is then shared by every
   `WechatyOptions` (and mutated by `Wechaty.__init__`): always pass a fresh `PuppetOptions`.
2. `wechaty/user/url_link.py` does `from urllib3 import get_host` (removed in urllib3 2);
   an equivalent `get_host` is put back on `urllib3`.
3. `pyee<12` is a pin, not a patch (pyee 12 removed `pyee.AsyncIOEventEmitter`); checked here
   so a wrong environment fails with a clear message.
4. Importing `wechaty.plugin` creates `$CACHE_DIR` (default `./.wechaty`, i.e. in the working
   directory) for the plugin job store; unless CACHE_DIR is set it is pointed at a temp dir.
5. The SDK imports `telnetlib` (deprecated in 3.11, removed in 3.13) and uses the deprecated
   `pyee.AsyncIOEventEmitter` alias: those two DeprecationWarnings (only) are filtered out.
   Python 3.13 is not supported.
6. `wechaty_puppet.get_logger` gives every SDK logger its own stderr handler, `propagate=False` and
   level INFO, at which it logs every message's full text (customer phone numbers included). Unless
   WECHATY_LOG is set, the level becomes `warn`; the handlers are removed and the loggers propagate,
   so the application's logging configuration applies to them.
7. `fresh_pools(bot)`: `Contact`, `Room` and `Tag` keep one class-level object pool shared by every
   `Wechaty` instance, so after a reconnect `Room.load(id)` would return an object bound to the
   dead puppet. Call it right after `bot.init_puppet()`.
8. `wechaty_options(token, endpoint)`: `Wechaty` always starts its plugin web server on
   `WechatyOptions.port` (default 5000, maybe taken by anything else on the machine) and, without a
   scheduler of our own, an APScheduler with a SQLite job store under CACHE_DIR: a free port and an
   in-memory AsyncIOScheduler are given instead.
9. `close_session(bot)`: `Wechaty` has no way to drop a dead session without `puppet.stop()`, which
   also sends a Stop RPC to the puppet service: its plugin scheduler is shut down, the
   listeners on the puppet's private `_event_stream` are removed and only the gRPC channel is closed.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
import warnings
from types import ModuleType
from typing import Any

_patched = False
_SDK_LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def _get_host(url: str) -> tuple[str, str | None, int | None]:
    """urllib3 1.x `get_host`: (scheme, host, port) with scheme defaulting to http."""
    from urllib3.util import parse_url

    p = parse_url(url)
    return p.scheme or "http", p.hostname, p.port


def apply_patches() -> None:
    """Apply measures 1-6 (idempotent); must run before the first `import wechaty_puppet`/`wechaty`."""
    global _patched
    if _patched:
        return
    os.environ.setdefault("WECHATY_LOG", "warn")  # read when the SDK's loggers are created (import)
    os.environ.setdefault("CACHE_DIR", os.path.join(tempfile.gettempdir(), "reception-bot-wechaty"))
    if sys.version_info >= (3, 13):
        raise RuntimeError("wechaty 0.10.7 imports telnetlib (removed in Python 3.13): use 3.11 or 3.12")
    warnings.filterwarnings("ignore", message=r".*telnetlib", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r"pyee\.AsyncIOEventEmitter", category=DeprecationWarning)
    import pyee

    if not hasattr(pyee, "AsyncIOEventEmitter"):
        raise RuntimeError("wechaty 0.10.7 needs pyee<12 (pyee.AsyncIOEventEmitter): pip install '.[wechat]'")
    import urllib3

    if not hasattr(urllib3, "get_host"):
        urllib3.get_host = _get_host  # type: ignore[attr-defined]
    from wechaty_puppet.schemas.puppet import PuppetOptions

    if PuppetOptions.__hash__ is None:
        PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]
    _patched = True


def import_wechaty() -> tuple[ModuleType, ModuleType]:
    """Apply the patches, then import and return `(wechaty, wechaty_puppet)`."""
    apply_patches()
    import wechaty
    import wechaty_puppet
    import wechaty_puppet_service  # noqa: F401  (loaded by name by Wechaty._load_puppet)

    _sdk_loggers_propagate()
    return wechaty, wechaty_puppet


def _sdk_loggers_propagate() -> None:
    """Measure 6: hand the SDK's loggers (made by wechaty_puppet.get_logger) back to the app's config."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.propagate and any(
                getattr(h.formatter, "_fmt", None) == _SDK_LOG_FORMAT for h in logger.handlers):
            logger.handlers, logger.propagate = [], True
    logging.getLogger("Accessory").setLevel(logging.ERROR)  # "set payload more than once" on every reply
    logging.getLogger("FileBox").setLevel(logging.ERROR)    # "mimeType will be deprecated" ×3 per file


def fresh_pools(bot: Any) -> None:
    """Give this bot's `Contact`/`ContactSelf`/`Room`/`Tag` classes their own object pools (measure 7)."""
    for name in ("Contact", "ContactSelf", "Room", "Tag"):
        getattr(bot, name)._pool = {}


def wechaty_options(token: str | None, endpoint: str) -> Any:
    """Measure 8: options for one session: a fresh PuppetOptions, a free plugin port, no job database."""
    wechaty, puppet = import_wechaty()
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return wechaty.WechatyOptions(puppet_options=puppet.PuppetOptions(token=token, end_point=endpoint),
                                  port=_free_port(), scheduler=AsyncIOScheduler())


def close_session(bot: Any) -> None:
    """Measure 9: end a session's scheduler, listeners and connection (no Stop RPC to the service)."""
    scheduler = bot._plugin_manager.scheduler
    if scheduler.running:
        scheduler.shutdown(wait=False)
    bot.puppet._event_stream.remove_all_listeners()
    if bot.puppet.channel is not None:
        bot.puppet.channel.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
