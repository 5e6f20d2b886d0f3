"""EAN-18 connection codes (GS1 GSRN) and Dutch postcodes."""

from __future__ import annotations

import re

_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")


def check_digit(first17: str) -> int:
    """GS1 mod-10: weights 3,1,3,... from the rightmost digit before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first17)))
    return (10 - total % 10) % 10


def is_valid_ean18(ean: str) -> bool:
    return len(ean) == 18 and ean.isascii() and ean.isdigit() and check_digit(ean[:17]) == int(ean[17])


def normalize_postcode(postcode: str) -> str | None:
    """'6811 ab' -> '6811AB'; None if it is not a Dutch postcode."""
    match = _POSTCODE.fullmatch(postcode.strip())
    return f"{match.group(1)}{match.group(2).upper()}" if match else None


def eighteen_digits(text: str) -> str:
    """`text` if it has an EAN's form (18 ASCII digits), else ValueError: a keyset cursor's EAN."""
    if len(text) != 18 or not (text.isascii() and text.isdigit()):
        raise ValueError("not an EAN")
    return text
