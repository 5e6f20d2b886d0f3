"""What a request may carry, once for every surface: ids, text and timestamps the database can hold.

Each bound matches storage (PostgreSQL `integer` ids and versions, `varchar(n)` and `text`
without NUL, timestamps that convert to UTC), so a value accepted here never makes a query fail
and a refused one is the client's error: 400/404/422 problem+json, never a 500.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from backend.errors import Invalid

# PostgreSQL `integer`: Piccolo's Serial primary keys, versions, counters (SQLite would hold 2**63 - 1).
MIN_INT4, MAX_INT4 = -(2**31), 2**31 - 1
RowId = Annotated[int, Meta(ge=1, le=MAX_INT4)]
Version = Annotated[int, Meta(ge=1, le=MAX_INT4)]

# Text: NUL cannot be stored in PostgreSQL text, and no control character means anything in these
# fields. A line has none; prose (notes, messages) keeps tab and line breaks. C1 controls included.
LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
PROSE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

# An e-mail address as a person gives it (RFC 5321's 254-octet path bound): one @, no spaces, no
# control characters (they could break a mail header), a dot in the domain. Not RFC 5322's grammar:
# the mail server has the last word, and refuses for good what does not exist.
EMAIL_PATTERN_TEXT = r"^[^\s@\x00-\x1f\x7f]{1,64}@[^\s@\x00-\x1f\x7f]+\.[^\s@\x00-\x1f\x7f]+$"
EMAIL_PATTERN = re.compile(EMAIL_PATTERN_TEXT)
Email = Annotated[str, Meta(max_length=254, pattern=EMAIL_PATTERN_TEXT, examples=["anna@example.com"])]

# Timestamps a client may send: wide enough for any real clock (the domain applies its own,
# narrower windows), narrow enough that every value converts to UTC and is stored as it was sent.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def storable(value: object) -> bool:
    """Whether an int or datetime fits the columns above (anything else: True)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return MIN_INT4 <= value <= MAX_INT4
    if isinstance(value, datetime):
        return value.tzinfo is not None and EARLIEST <= value < LATEST
    return True


def check_timestamp(field: str, value: datetime) -> None:
    """Refuse a timestamp outside [EARLIEST, LATEST) with 422 `request/timestamp-out-of-range`."""
    if not storable(value):
        raise Invalid(
            "request/timestamp-out-of-range",
            field=field,
            earliest=EARLIEST.date().isoformat(),
            latest=LATEST.date().isoformat(),
        )


class WireRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every JSON request body: unknown fields refused, every timestamp field bounded."""

    def __post_init__(self) -> None:
        # msgspec calls this on decode; a DomainError passes through it unchanged to problems.py.
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                check_timestamp(name, value)
