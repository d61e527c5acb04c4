"""Log lines as text or JSON: ``configure`` sets up the root logger once per process.

Every line has a time (RFC 3339, UTC, milliseconds), a level, the logger's name and the message; a record
may carry structured fields (``extra={FIELDS: {...}}``: the access log's method, peer, request id, items,
verdict counts, code and duration), which the text format appends as ``key=value`` and the JSON format
adds as keys of the line's object. Text::

    2026-05-01T12:00:00.123Z INFO verifier.access: call method=/verifier.v1.Verifier/GetInfo code=OK ...

JSON, one object per line::

    {"time": "2026-05-01T12:00:00.123Z", "level": "INFO", "logger": "verifier.access", "message": "call",
     "method": "/verifier.v1.Verifier/GetInfo", "code": "OK", ...}

The standard ``logging`` module does the work (no dependency): loggers, levels and handlers stay what
any Python operator expects.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import IO, Any

__all__ = ["FIELDS", "FORMATS", "JsonFormatter", "TextFormatter", "configure"]

FORMATS = ("text", "json")
FIELDS = "fields"  # LogRecord attribute holding a record's structured fields (a dict), set through ``extra``

_BASE_KEYS = ("time", "level", "logger", "message")


def _time(record: logging.LogRecord) -> str:
    """``record.created`` as RFC 3339 in UTC with milliseconds: ``2026-05-01T12:00:00.123Z``."""
    moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, FIELDS, None)
    return fields if isinstance(fields, dict) else {}


def _text_value(value: Any) -> str:
    """A field's value for the text format: a string bare when it has no space, quote or '=', else
    JSON-quoted; anything else as JSON (``null``, ``true``, ``12.5``)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(c in text for c in ' "=\\') and text.isprintable():
        return text
    return json.dumps(text)


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE key=value ...``, then the traceback of an exception, if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extra = " ".join(f"{k}={_text_value(v)}" for k, v in _fields(record).items())
        if extra:
            line += " " + extra
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's fields, and ``exception`` (the
    traceback as one string) when the record carries one. A field never replaces the four first keys."""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            if key not in _BASE_KEYS:
                obj[key] = value
        if record.exc_info:
            obj["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            obj["stack"] = self.formatStack(record.stack_info)
        return json.dumps(obj, default=str, separators=(", ", ": "))


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure`` installs (so that a second ``configure`` replaces it, and only it)."""


def configure(level: str | int = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """The root logger at ``level`` (a name such as ``"info"`` or ``"WARNING"``, or a number), writing to
    ``stream`` (default: standard error) in format ``fmt`` (``"text"`` or ``"json"``).

    Calling it again replaces the handler it installed before; handlers installed by others (a test's log
    capture) are left in place. A bad level or format is a ``ValueError`` naming it, before anything changes."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be text or json, not {fmt!r}")
    if isinstance(level, str):
        name = level.strip().upper()
        if not isinstance(logging.getLevelName(name), int):
            raise ValueError(f"log level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {level!r}")
        level = name
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
