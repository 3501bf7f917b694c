"""SDK workarounds live only in the compat modules, and each Feishu measure does what it says."""
from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import lark_oapi.ws.client as lark_ws_client
from lark_oapi.core.const import LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, LARK_REQUEST_TIMESTAMP

from bot.adapters.feishu import sdk_compat

BOT = Path(__file__).resolve().parents[2] / "bot"
# private SDK names: lark-oapi's ws client module and attributes; wechaty's plugin manager, event stream, pools
INTERNALS = re.compile(r"lark_oapi\.ws\.client|\._auto_reconnect|\._conn\b|\b_select\b|"
                       r"\._plugin_manager|\._event_stream|\._pool\b")
COMPAT = {BOT / "adapters/feishu/sdk_compat.py", BOT / "adapters/wechat/compat.py"}


def test_no_module_but_the_compat_modules_touches_sdk_internals():
    offenders = [f"{p.relative_to(BOT.parent)}:{n}" for p in sorted(BOT.rglob("*.py")) if p not in COMPAT
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if INTERNALS.search(line)]
    assert offenders == []


def test_the_signed_headers_reach_the_sdk_in_its_own_spelling_whatever_their_casing():
    headers = {"x-lark-request-timestamp": "1700000000", "X-LARK-REQUEST-NONCE": "n1",
               "x-lark-signature": "abc", "Content-Type": "application/json"}

    class Headers(dict):                   # http.server's headers: case-insensitive get/[]
        def get(self, k, default=None):
            return next((v for key, v in self.items() if key.lower() == k.lower()), default)

        def __getitem__(self, k):
            return self.get(k)

    req = sdk_compat.raw_request("/feishu/events", b"{}", Headers(headers))
    assert req.uri == "/feishu/events" and req.body == b"{}"
    assert (req.headers[LARK_REQUEST_TIMESTAMP], req.headers[LARK_REQUEST_NONCE],
            req.headers[LARK_REQUEST_SIGNATURE]) == ("1700000000", "n1", "abc")


def test_the_dispatchers_traceback_per_refused_request_is_dropped_once_installed_and_other_lines_kept():
    sdk = logging.getLogger("Lark")
    before = list(sdk.filters)
    sdk.filters[:] = []                     # an earlier webhook test may have installed it already
    try:
        sdk_compat.quiet_dispatcher_tracebacks()
        sdk_compat.quiet_dispatcher_tracebacks()
        added = list(sdk.filters)
        assert len(added) == 1

        def record(msg):
            return logging.LogRecord("Lark", logging.ERROR, __file__, 1, msg, None, None)

        assert not added[0].filter(record("handle event failed, uri: /feishu/events, err: bad"))
        assert added[0].filter(record("connect failed"))
    finally:
        sdk.filters[:] = before


def test_the_long_connection_runs_on_the_loop_it_is_given():
    old = lark_ws_client.loop
    loop = asyncio.new_event_loop()
    try:
        sdk_compat.use_loop(loop)
        assert lark_ws_client.loop is loop
    finally:
        lark_ws_client.loop = old
        loop.close()
