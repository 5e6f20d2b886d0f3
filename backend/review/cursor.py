"""The opaque queue cursor (due time, risk, case id), shared by the API and the console."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from backend.errors import BadRequest


def encode_cursor(after: tuple[datetime, int, int]) -> str:
    due, risk, case_id = after
    return base64.urlsafe_b64encode(f"{due.isoformat()}|{risk}|{case_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    """Anything malformed is the client's error (400), never ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, risk, case_id = raw.split("|")
        parsed = datetime.fromisoformat(due)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(risk), int(case_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("request/invalid", detail="cursor") from None
