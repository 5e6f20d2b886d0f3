"""Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded.

Used by every paginated list (installs, the review queue); a malformed cursor is the client's
error (400 request/invalid), never ours.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from backend.bounds import storable
from backend.errors import BadRequest, Said


def encode_cursor(*parts: object) -> str:
    """Datetimes as ISO 8601, everything else as str, joined by '|'."""
    text = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *parsers: Callable[[str], Any]) -> tuple[Any, ...]:
    """Split and parse the parts in order, e.g. decode_cursor(c, aware_datetime, int)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        if len(parts) != len(parsers):
            raise ValueError("wrong number of parts")
        values = tuple(parse(part) for parse, part in zip(parsers, parts, strict=True))
        if not all(storable(v) for v in values):  # a forged cursor must not overflow a query
            raise ValueError("out of range")
        return values
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("request/invalid", detail=Said("invalid-cursor")) from None


def aware_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed
