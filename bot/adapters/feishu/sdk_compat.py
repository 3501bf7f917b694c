"""Every use of lark-oapi internals, in one place (checked against lark-oapi 1.7.5; pyproject pins `<1.8`).

Nothing else in the project touches the SDK's private names. Each measure names the SDK behaviour
it works around; when an upgrade fixes one, delete the measure here and its call site.

Measures 1, 2 and 5 detect the feature they work around (FEATURES, logged at start) instead of assuming
it, so a newer SDK that fixed it, or renamed what we touch, takes the public way or degrades with a
warning; `make canary` runs the compat tests against the newest lark-oapi (it reports, it does not block).

1. `use_loop(loop)`: `lark_oapi/ws/client.py` keeps the long connection's event loop in a module
   global, captured at import time, and `Client.start()` runs on it (larksuite/oapi-sdk-python
   issues #119 and #133; fixed upstream only by the open PR #153). Our long connection runs in its
   own thread, so that thread's new loop is put in the global before `start()`: one ws client per
   process. Only when the module has that global (`FEATURES["module_loop"]`).
2. `stop_ws(client)`: `ws.Client` has no `stop()` (open PR #128): `start()` blocks for ever on
   `run_until_complete(_select())`, and with `_auto_reconnect` set it reconnects after any close.
   We clear `_auto_reconnect`, cancel the SDK's own tasks, close `_conn` and then cancel the task
   running the coroutine named `_select`, so `start()` returns on its thread. When the SDK has a
   `Client.stop` (`FEATURES["client_stop"]`) it is called first.
5. `observe_frames(client, seen)` and `is_connected(client)`: the SDK tells no one when a frame arrives
   (hermes-agent #46561: the receive loop died while the process said "connected"), so the watchdog
   (bot/watchdog.py) wraps the instance's `_handle_message` (every frame: events, pongs) and reads `_conn`.
   Without them (`FEATURES["frame_hook"]`), only events count as frames. `on_reconnected(client, done)`
   counts the SDK's own reconnects where it has that public hook (`FEATURES["reconnect_hook"]`).
3. `quiet_dispatcher_tracebacks()`: `EventDispatcherHandler.do` logs every refused request with
   `logger.exception("handle event failed ...")` on the "Lark" logger (a traceback each); the webhook
   logs its own one line with the reason instead.
4. `raw_request(path, body, headers)`: the dispatcher reads `RawRequest.headers` as a plain dict
   with the exact casing of its constants (`X-Lark-Signature`, …), while HTTP headers may arrive in
   any casing; the signed headers are copied under the SDK's spelling.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Callable

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from lark_oapi.core.const import LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, LARK_REQUEST_TIMESTAMP, X_REQUEST_ID

SIGNED_HEADERS = (LARK_REQUEST_TIMESTAMP, LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE, X_REQUEST_ID)
SDK_START_CORO = "_select"      # what `ws.Client.start()` waits on for ever (lark_oapi/ws/client.py)
log = logging.getLogger(__name__)


def detect() -> dict[str, bool]:
    """What the installed SDK has, of what the measures touch."""
    c = lark.ws.Client
    return {
        "module_loop": isinstance(getattr(lark_ws_client, "loop", None), asyncio.AbstractEventLoop),
        "client_stop": callable(getattr(c, "stop", None)),
        "frame_hook": inspect.iscoroutinefunction(getattr(c, "_handle_message", None)),
        "private_conn": "_conn" in _init_names(c) and "_auto_reconnect" in _init_names(c),
        "start_coro": callable(getattr(lark_ws_client, SDK_START_CORO, None)),
        "reconnect_hook": "on_reconnected" in _init_names(c),
    }


def _init_names(cls) -> set[str]:
    """The attribute names `cls.__init__` assigns on self (read from its source, without making one)."""
    try:
        return set(re.findall(r"self\.(\w+)\s*(?::[^=]+)?=", inspect.getsource(cls.__init__)))
    except (OSError, TypeError):
        return set()


FEATURES = detect()


def use_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Measure 1: the SDK's module-level long-connection loop becomes `loop` (this thread's); False
    when the SDK keeps no such global (fixed upstream: nothing to do)."""
    if not FEATURES["module_loop"]:
        return False
    lark_ws_client.loop = loop
    return True


async def stop_ws(client: lark.ws.Client) -> None:
    """Measure 2: end `client.start()` (run on the client's loop): no reconnect, tasks cancelled, closed."""
    if FEATURES["client_stop"]:
        done = client.stop()
        if inspect.isawaitable(done):
            await done
    if hasattr(client, "_auto_reconnect"):
        client._auto_reconnect = False
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    main = [t for t in tasks if t.get_coro().__name__ == SDK_START_CORO]
    others = [t for t in tasks if t not in main]
    for t in others:
        t.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    if getattr(client, "_conn", None) is not None:
        await client._conn.close()
    for t in main:
        t.cancel()


def observe_frames(client: lark.ws.Client, seen: Callable[[], None]) -> bool:
    """Measure 5: `seen()` on every frame the client receives (before the SDK handles it); False
    when the SDK has no `_handle_message` to wrap (then the adapter counts events only)."""
    handle = getattr(client, "_handle_message", None)
    if not FEATURES["frame_hook"] or handle is None:
        return False

    async def handle_and_note(msg) -> None:
        seen()
        await handle(msg)

    client._handle_message = handle_and_note
    return True


def on_reconnected(client: lark.ws.Client, done: Callable[[], None]) -> bool:
    """`done()` each time the SDK reconnects by itself (its public hook, newer SDKs only); False without it."""
    if not FEATURES["reconnect_hook"]:
        return False
    client.on_reconnected = done
    return True


def is_connected(client: lark.ws.Client) -> bool:
    """Measure 5: the client holds an open connection (unknown on an SDK without `_conn`: True)."""
    if not FEATURES["private_conn"]:
        return True
    conn = getattr(client, "_conn", None)
    return conn is not None and getattr(conn, "close_code", None) is None


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
