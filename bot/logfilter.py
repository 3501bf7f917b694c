"""RULES §10: logs never carry a full phone number — ours, SQLAlchemy's and the SDKs' (lark-oapi, wechaty).

`install()` (called by `bootstrap`, idempotent) puts one `PhoneFilter` in two places:
- the log-record factory, so every record any logger creates is masked as it is made (SDK loggers
  with their own handlers and `propagate = False` included);
- every handler of the root logger, for records that reach a handler some other way.
The masked record keeps its level, logger name and traceback; the message, arguments, traceback text
and stack are masked once and frozen (`args` emptied), so no later formatting can bring a number back.
"""
from __future__ import annotations

import logging

from bot.privacy import mask_phones

_formatter = logging.Formatter()


class PhoneFilter(logging.Filter):
    """Masks phone numbers in a record's message, traceback and stack; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_phones_masked", False):
            return True
        try:
            record.msg, record.args = mask_phones(record.getMessage()), None
        except Exception:                      # a broken %-format: keep the template, drop the args
            record.msg, record.args = mask_phones(str(record.msg)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        record._phones_masked = True
        return True


FILTER = PhoneFilter()


def install() -> None:
    """Mask every log record from now on (safe to call more than once)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_masks_phones", False):
        def masked_record(*args, **kwargs) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            FILTER.filter(record)
            return record
        masked_record._masks_phones = True
        logging.setLogRecordFactory(masked_record)
    for handler in logging.getLogger().handlers:
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)
