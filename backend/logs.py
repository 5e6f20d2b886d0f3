"""Logs on stdout, one JSON object per line (or plain text for development), each line of a request
carrying its request id.

The request id lives in a context variable set by backend/access.py for the duration of a request,
so every log call made while serving it (a handler, a service, the problem renderer) carries it
without being handed it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# An id the proxy chose is kept when it looks like one (uuid, hex, the ids nginx, Envoy or an AWS load
# balancer make); anything else (a header stuffed with a line break or JSON) is replaced by ours.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# Attributes every LogRecord has; anything else was passed as `extra=` and becomes a JSON member.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_NAME = "selfinstall-stdout"


def current_request_id() -> str | None:
    """The id of the request being served in this task, None outside a request."""
    return _request_id.get()


def bind_request_id(incoming: str | None) -> tuple[str, object]:
    """Adopt a well-formed incoming X-Request-Id, else a new one; returns (id, token for `unbind`)."""
    rid = incoming if incoming and _WELL_FORMED_ID.fullmatch(incoming) else uuid.uuid4().hex
    return rid, _request_id.set(rid)


def unbind_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, then the record's `extra` members; a traceback as `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_"))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a developer's terminal: the same fields on one readable line."""

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}" for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")
        )
        rid = current_request_id()
        line = f"{self.formatTime(record)} {record.levelname:<7} {record.name} {record.getMessage()}"
        line += f" {extras}" if extras else ""
        line += f" [{rid}]" if rid else ""
        return line + (f"\n{self.formatException(record.exc_info)}" if record.exc_info else "")


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at the time (pytest swaps it per test; a stream captured once
    would be a closed file by the next test)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(log_format: str, level: str) -> None:
    """One stdout handler on the root logger (idempotent: every app a process creates shares it)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StdoutHandler()
        handler.set_name(_HANDLER_NAME)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.setLevel(level.upper())


def granian_log_config(log_format: str) -> dict[str, Any]:
    """granian's own lines (start, workers, shutdown) in the same format: its dictConfig, formatters replaced."""
    formatter = {"()": f"backend.logs.{'JsonFormatter' if log_format == 'json' else 'TextFormatter'}"}
    return {"formatters": {"generic": formatter, "access": formatter}}
