"""Logging for `run` and `web`: human-readable lines by default, or LOG_FORMAT=json for a log system.

JSON (python-json-logger): one object per line with time, level, logger, message and, while a message
is being handled, project, platform, event_id and verb (`context()`, a contextvar: each thread and
task sees its own). The phone filter (bot/logfilter.py) runs before the formatter, on the record
factory and on the handler, so no field can carry a full phone number.
"""
from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bot.logfilter import FILTER
from bot.logfilter import install as mask_phones_in_logs
from bot.privacy import mask_phones

HUMAN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("project", "platform", "event_id", "verb")
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("reception_log_context", default=None)


@contextmanager
def context(**fields) -> Iterator[None]:
    """Fields added to every log record made inside the block (None values are left out)."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def add_context(**fields) -> None:
    """More fields for the rest of the current block (the project, once the sender is resolved)."""
    if _context.get() is not None:
        _context.get().update({k: v for k, v in fields.items() if v is not None})


class ContextFilter(logging.Filter):
    """Copies the current context's fields onto the record (masked: an event id never holds a phone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for k in FIELDS:
            if not hasattr(record, k):
                setattr(record, k, None)
        for k, v in (_context.get() or {}).items():
            setattr(record, k, mask_phones(str(v)))
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class Masked(JsonFormatter):
        """Every text field masked once more as the object is built: a field passed with `extra=` by
        any library is not a message the filter saw."""

        def process_log_record(self, log_record: dict) -> dict:
            return {k: mask_phones(v) if isinstance(v, str) else v for k, v in log_record.items()}

    return Masked("%(asctime)s %(levelname)s %(name)s %(message)s " + " ".join(f"%({k})s" for k in FIELDS),
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False)


def configure(env: Mapping[str, str], level: str, stream=None, force: bool = False) -> logging.Handler | None:
    """The root logger's one handler: JSON when LOG_FORMAT=json, else the human format; phones masked first.
    Like logging.basicConfig, nothing is changed when the root logger has handlers already (a test harness,
    an embedding program) unless `force`."""
    mask_phones_in_logs()
    root = logging.getLogger()
    if root.handlers and not force:
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(FILTER)                   # before the formatter (and the record factory masks too)
    handler.addFilter(ContextFilter())
    fmt = env.get("LOG_FORMAT", "").strip().lower()
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(HUMAN))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
