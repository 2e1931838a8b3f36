"""Log redaction: secrets registered here are replaced by "[redacted]" in every log record from then on."""

from __future__ import annotations

import logging
from typing import Any

_SECRETS: set[str] = set()
MIN_LENGTH = 6  # shorter values are not real secrets, and replacing them would mangle every log line


def hide_in_logs(secret: str) -> None:
    """Replace `secret` with "[redacted]" in every log record from now on (messages and tracebacks)."""
    if len(secret) < MIN_LENGTH:
        return
    if not _SECRETS:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
    _SECRETS.add(secret)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))


def redact(record: logging.LogRecord) -> logging.LogRecord:
    """The record with every registered secret replaced, in its message and its traceback text."""
    message = record.getMessage()
    if any(s in message for s in _SECRETS):
        for s in _SECRETS:
            message = message.replace(s, "[redacted]")
        record.msg, record.args = message, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        for s in _SECRETS:
            text = text.replace(s, "[redacted]")
        record.exc_text = text
    return record
