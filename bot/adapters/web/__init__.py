"""The live board and the report pages (Starlette on uvicorn): read-only, behind a per-project token."""
from bot.adapters.web.server import WebServer, make_web, serve_in_thread

__all__ = ["WebServer", "make_web", "serve_in_thread"]
