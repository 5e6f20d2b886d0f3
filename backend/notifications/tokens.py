"""Signed links in our e-mail, so no login is needed and no one can make (or change) one for another
customer without UNSUBSCRIBE_SECRET (one secret, a label per purpose: a token made for one purpose is
refused by the other).

- Unsubscribe: the customer's subject and an HMAC over it. It does not expire: RFC 8058 asks that a
  message's link keeps working, and all it can do is stop mail (the customer switches it back on).
- Address check: the subject, the address they typed and when it was asked. Following it proves the
  address is theirs before any message about their installs goes there; it expires
  (ADDRESS_LINK_VALID)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from backend.errors import BadRequest

_PURPOSE = b"selfinstall/unsubscribe/v1\x00"  # a key used for nothing else; another purpose gets another label
_ADDRESS_PURPOSE = b"selfinstall/address-check/v1\x00"
ADDRESS_LINK_VALID = timedelta(days=7)
_MAC_BYTES = 16  # 128 bits: no forgery by guessing


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, subject: bytes, purpose: bytes = _PURPOSE) -> bytes:
    return hmac.new(secret.encode(), purpose + subject, hashlib.sha256).digest()[:_MAC_BYTES]


def unsubscribe_token(secret: str, subject: str) -> str:
    """`<subject, base64url>.<mac, base64url>`: URL-safe as it is."""
    raw = subject.encode()
    return f"{_b64(raw)}.{_b64(_mac(secret, raw))}"


def subject_of(secret: str, token: str) -> str:
    """The customer a token was made for; 400 `notifications/invalid-unsubscribe-token` if it was not made
    with our secret (tampered, truncated, or made up)."""
    encoded_subject, _, encoded_mac = token.partition(".")
    try:
        raw, mac = _unb64(encoded_subject), _unb64(encoded_mac)
        subject = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("notifications/invalid-unsubscribe-token") from None
    if not subject or not hmac.compare_digest(mac, _mac(secret, raw)):
        raise BadRequest("notifications/invalid-unsubscribe-token")
    return subject


def address_token(secret: str, subject: str, address: str, asked_at: datetime) -> str:
    """`<subject NUL address NUL unix seconds, base64url>.<mac, base64url>`."""
    raw = b"\x00".join((subject.encode(), address.encode(), str(int(asked_at.timestamp())).encode()))
    return f"{_b64(raw)}.{_b64(_mac(secret, raw, _ADDRESS_PURPOSE))}"


def address_of(secret: str, token: str, now: datetime) -> tuple[str, str]:
    """(subject, address) an address-check token was made for; 400 `notifications/invalid-address-link` if
    we did not make it, `notifications/address-link-expired` once ADDRESS_LINK_VALID has passed."""
    encoded, _, encoded_mac = token.partition(".")
    try:
        raw, mac = _unb64(encoded), _unb64(encoded_mac)
        subject, address, asked = raw.decode().split("\x00")
        asked_at = datetime.fromtimestamp(int(asked), UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise BadRequest("notifications/invalid-address-link") from None
    if not subject or not address or not hmac.compare_digest(mac, _mac(secret, raw, _ADDRESS_PURPOSE)):
        raise BadRequest("notifications/invalid-address-link")
    if not asked_at <= now < asked_at + ADDRESS_LINK_VALID:
        raise BadRequest("notifications/address-link-expired")
    return subject, address
