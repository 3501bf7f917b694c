"""Every use of lark-oapi internals, in one place (checked against lark-oapi 1.7.5; pyproject pins `<1.8`).

Nothing else in the project touches the SDK's private names. Each measure names the SDK behaviour
it works around; when an upgrade fixes one, delete the measure here and its call site.

1. `use_loop(loop)`: `lark_oapi/ws/client.py` keeps the long connection's event loop in a module
   global, captured at import time, and `Client.start()` runs on it (larksuite/oapi-sdk-python
   issues #119 and #133; fixed upstream only by the open PR #153). Our long connection runs in its
   own thread, so that thread's new loop is put in the global before `start()`: one ws client per
   process.
2. `stop_ws(client)`: `ws.Client` has no `stop()` (open PR #128): `start()` blocks for ever on
   `run_until_complete(_select())`, and with `_auto_reconnect` set it reconnects after any close.
   We clear `_auto_reconnect`, cancel the SDK's own tasks, close `_conn` and then cancel the task
   running the coroutine named `_select`, so `start()` returns on its thread.
3. `quiet_dispatcher_tracebacks()`: `EventDispatcherHandler.do` logs every refused request with
   `logger.exception("handle event failed ...")` on the "Lark" logger (a traceback each); the webhook
   logs its own one line with the reason instead.
4. `raw_request(path, body, headers)`: the dispatcher reads `RawRequest.headers` as a plain dict
   with the exact casing of its constants (`X-Lark-Signature`, …), while HTTP headers may arrive in
   any casing; the signed headers are copied under the SDK's spelling.
"""
from __future__ import annotations

import asyncio
import logging

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from lark_oapi.core.const import LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, LARK_REQUEST_TIMESTAMP, X_REQUEST_ID

SIGNED_HEADERS = (LARK_REQUEST_TIMESTAMP, LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, X_REQUEST_ID)
SDK_START_CORO = "_select"      # what `ws.Client.start()` waits on for ever (lark_oapi/ws/client.py)


def use_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Measure 1: the SDK's module-level long-connection loop becomes `loop` (this thread's)."""
    lark_ws_client.loop = loop


async def stop_ws(client: lark.ws.Client) -> None:
    """Measure 2: end `client.start()` (run on the client's loop): no reconnect, tasks cancelled, closed."""
    client._auto_reconnect = False
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    main = [t for t in tasks if t.get_coro().__name__ == SDK_START_CORO]
    others = [t for t in tasks if t not in main]
    for t in others:
        t.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    if client._conn is not None:
        await client._conn.close()
    for t in main:
        t.cancel()


class _DropSdkTracebacks(logging.Filter):
    """Measure 3: the dispatcher's "handle event failed" records (one traceback per refused request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("handle event failed")


def quiet_dispatcher_tracebacks() -> None:
    """Measure 3, once per process."""
    sdk = logging.getLogger("Lark")
    if not any(isinstance(f, _DropSdkTracebacks) for f in sdk.filters):
        sdk.addFilter(_DropSdkTracebacks())


def raw_request(path: str, body: bytes, headers) -> lark.RawRequest:
    """Measure 4: the SDK's request object, the signed headers under the SDK's exact spelling."""
    req = lark.RawRequest()
    req.uri, req.body = path, body
    req.headers = dict(headers.items())
    req.headers.update({h: headers[h] for h in SIGNED_HEADERS if headers.get(h) is not None})
    return req
