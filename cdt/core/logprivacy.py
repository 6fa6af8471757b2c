"""Log lines carry no personal value and cannot be forged.

Every log record of the process (the app's, SQLAlchemy's, werkzeug's, gunicorn's, any
library's) is cleaned once when it is created (a LogRecord factory, so a handler added later
by a server or a test is covered too), and again by SafeLogFilter on the app's handlers:

- numbers shaped like a citizen ID or a phone number (9 or more digits, alone or grouped
  with single spaces, dots or dashes, with or without `+`; an IPv4 address is kept) become
  `[redacted]`;
- the values of query arguments (`/members?q=...`) and PostgreSQL's `DETAIL:` lines (they
  quote the offending row or key: `Key (citizen_id)=(...)`, `Failing row contains (...)`)
  become `[redacted]`;
- in the message, line breaks and other control characters are escaped (`\\n` is written as
  the two characters `\\n`), so text a user typed can never start a forged line.

The traceback of an error is formatted and cleaned the same way (its line breaks kept).
SQL parameters never reach an exception message in the first place: the engine is created
with `hide_parameters=True` (cdt/__init__.py).
"""
from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_PERSONAL_NUMBER = re.compile(r"(?<!\d)\+?\d(?:[ .\-]?\d){8,}(?!\d)")
_IPV4 = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}")
_QUERY_VALUE = re.compile(r"(?<=[?&])([^=&\s\"'#<>]+)=[^&\s\"'#<>]*")
_PG_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
_PG_ROW = re.compile(r"(Failing row contains|Key \([^)]*\)=)\s*\(.*?\)(?=[ .,;\n]|$)")

_LOG_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_FORMATTER = logging.Formatter()


def _number(match: re.Match) -> str:
    text = match.group(0)
    return text if _IPV4.fullmatch(text) else REDACTED


def redact(text: str) -> str:
    """`text` without anything shaped like a personal value (idempotent)."""
    if not text:
        return text
    text = _PG_DETAIL.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PG_ROW.sub(lambda m: f"{m.group(1)} ({REDACTED})" if m.group(1).startswith("Failing")
                       else f"{m.group(1)}({REDACTED})", text)
    text = _QUERY_VALUE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _PERSONAL_NUMBER.sub(_number, text)


def _escape_control(match: re.Match) -> str:
    char = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    return f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}"


def escape_controls(text: str) -> str:
    return _LOG_UNSAFE.sub(_escape_control, text)


def clean_record(record: logging.LogRecord) -> logging.LogRecord:
    """Clean a record in place (safe to call more than once)."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: logging reports it when the record is emitted
        return record
    cleaned = escape_controls(redact(message))
    if cleaned != message:
        record.msg = cleaned
        record.args = None
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set, so the raw exception text never reaches a line.
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class SafeLogFilter(logging.Filter):
    """The same cleaning as a filter, for the app's loggers and handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean_record(record)
        return True


SAFE_LOG_FILTER = SafeLogFilter()


def install_record_factory() -> None:
    """Clean every log record of the process when it is created (installed once)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_cdt_clean", False):
        return

    def factory(*args, **kwargs):
        return clean_record(current(*args, **kwargs))

    factory._cdt_clean = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
