"""wechaty 0.10.7 imports on the project's Python through bot.adapters.wechat.compat (the `wechat` extra)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waits import patience

pytest.importorskip("wechaty_puppet_service", reason="the wechat extra is missing: pip install '.[wechat]'")

ROOT = Path(__file__).resolve().parents[2]


def test_import_wechaty_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """Nothing imported before: the patches alone make the SDK import, without writing to the cwd."""
    code = (
        "from bot.adapters.wechat.compat import import_wechaty\n"
        "wechaty, puppet = import_wechaty()\n"
        "opts = wechaty.WechatyOptions(puppet_options=puppet.PuppetOptions(end_point='127.0.0.1:1'))\n"
        "assert opts.puppet_options.end_point == '127.0.0.1:1'\n"
        "from wechaty.user.url_link import UrlLink\n"
        "from wechaty_puppet_service import PuppetService\n"
        "import logging\n"
        "for name in ('WechatyPuppet.Schema.Base', 'Wechaty', 'PuppetService', 'Message'):\n"
        "    lg = logging.getLogger(name)\n"
        "    assert lg.level == logging.WARNING and lg.propagate and not lg.handlers, name\n"
        "print(wechaty.Wechaty.__name__, PuppetService.__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_DIR", "WECHATY_LOG")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=patience(60))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Wechaty", "PuppetService"]
    assert not (tmp_path / ".wechaty").exists()  # the SDK's cache dir went to a temp dir


def test_get_host_matches_urllib3_1() -> None:
    from bot.adapters.wechat.compat import import_wechaty

    import_wechaty()
    import urllib3

    assert urllib3.get_host("https://github.com/wechaty/python-wechaty") == ("https", "github.com", None)
    assert urllib3.get_host("http://127.0.0.1:8788/x") == ("http", "127.0.0.1", 8788)
    assert urllib3.get_host("example.com") == ("http", "example.com", None)


def test_puppet_options_hashable_and_import_idempotent() -> None:
    from bot.adapters.wechat.compat import import_wechaty

    first = import_wechaty()
    assert import_wechaty() == first
    puppet = first[1]
    hash(puppet.PuppetOptions(token="t"))


def test_fresh_pools_isolates_sessions() -> None:
    from bot.adapters.wechat.compat import fresh_pools, import_wechaty

    wechaty, _ = import_wechaty()
    from wechaty.user import ContactSelf as SdkContactSelf

    class Session:  # what Wechaty.init_puppet() creates per connection: subclasses bound to one puppet
        Contact = type("Contact", (wechaty.Contact,), {})
        ContactSelf = type("ContactSelf", (SdkContactSelf,), {})
        Room = type("Room", (wechaty.Room,), {})
        Tag = type("Tag", (wechaty.Tag,), {})

    assert Session.Room._pool is wechaty.Room._pool  # the SDK's shared pool: the stale-object bug
    fresh_pools(Session)
    assert Session.Room._pool == {} and Session.Room._pool is not wechaty.Room._pool
    assert Session.Contact._pool is not Session.ContactSelf._pool


def test_sdk_loggers_use_the_application_logging() -> None:
    import logging

    from bot.adapters.wechat.compat import import_wechaty

    import_wechaty()
    for name in ("Wechaty", "PuppetService", "Message", "Room"):
        logger = logging.getLogger(name)
        assert logger.propagate and not logger.handlers, name
    assert not logging.getLogger("Message").isEnabledFor(logging.INFO) or os.environ.get("WECHATY_LOG")
