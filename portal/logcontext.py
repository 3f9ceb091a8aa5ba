"""Structured logs: what Tairyo is working on, attached to every line logged meanwhile.

Code that handles a case says so once::

    with logcontext.bind(case_id=alert_id, organization=org.name):
        ...  # every log line in here, from any module, carries both

and ``ContextFilter`` copies the bound fields onto each record. In production
(``TAIRYO_LOG_FORMAT=json``) ``JsonFormatter`` writes one JSON object per line for the log
collector; in development the fields follow the message in brackets. The context lives in a
``ContextVar``, so threads (the deliver queue's pool) and requests never see each other's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

# Read-only, so that nothing can change the context of a block it did not bind.
_context: ContextVar[Mapping[str, str]] = ContextVar(
    "tairyo_log_context", default=MappingProxyType({})
)


# How many bind() blocks are open here: add() only works inside one, so that nothing it adds can
# outlive the block and follow the thread into its next request or task.
_depth: ContextVar[int] = ContextVar("tairyo_log_depth", default=0)


def _clean(fields: Mapping[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


@contextmanager
def bind(**fields: object) -> Iterator[None]:
    """Attach ``fields`` to every log line until the block ends (``None`` values are skipped)."""
    token = _context.set(MappingProxyType({**_context.get(), **_clean(fields)}))
    depth = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(depth)
        _context.reset(token)


def add(**fields: object) -> None:
    """Add ``fields`` to the innermost ``bind()`` block, once they are known (the organization
    after the receipt is read, say); they go when that block ends. Outside a block: no effect."""
    if _depth.get():
        _context.set(MappingProxyType({**_context.get(), **_clean(fields)}))


def current() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the bound fields on the record: ``record.context`` (a dict) and, for plain text,
    ``record.context_text`` (`` [case_id=… organization=…]`` or empty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        record.context = dict(fields)
        text = " ".join(f"{key}={value}" for key, value in fields.items())
        record.context_text = f" [{text}]" if text else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound fields,
    and the traceback of an exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "context", None) or _context.get())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Non-ASCII (Japanese host memos, say) stays readable; json.dumps escapes newlines.
        return json.dumps(entry, ensure_ascii=False, default=str)
