"""/healthz, /readyz and /metrics (bot/health.py): on the board's app, or on a small app of their own."""
from __future__ import annotations

import asyncio
import threading

from prometheus_client import make_asgi_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from bot.health import Health


def ops_routes(health: Health) -> list[BaseRoute]:
    async def healthz(request: Request):
        return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})

    async def readyz(request: Request):
        problems = await asyncio.to_thread(health.problems)
        body = "".join(p + "\n" for p in problems) if problems else "ready\n"
        return PlainTextResponse(body, status_code=503 if problems else 200, headers={"Cache-Control": "no-store"})

    return [Route("/healthz", healthz), Route("/readyz", readyz),
            Route("/metrics", _Asgi(make_asgi_app(health.registry())))]


class _Asgi:
    """An ASGI app as a route's endpoint (Starlette calls a plain function as a request handler); at
    /metrics exactly, not Mount's /metrics/ with a redirect."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def make_ops_app(health: Health) -> Starlette:
    """The three endpoints alone (when config.yaml has no `web:`)."""
    app = Starlette(routes=ops_routes(health))
    app.state.stopping = threading.Event()
    return app
