"""The one-click unsubscribe token: the customer's subject and an HMAC over it, so no login is needed and
no one can make (or change) a token for another customer without UNSUBSCRIBE_SECRET.

It does not expire: RFC 8058 asks that a message's link keeps working, and all it can do is stop mail
(the customer switches it back on in the app)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from backend.errors import BadRequest

_PURPOSE = b"selfinstall/unsubscribe/v1\x00"  # a key used for nothing else; another purpose gets another label
_MAC_BYTES = 16  # 128 bits: no forgery by guessing


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, subject: bytes) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE + subject, hashlib.sha256).digest()[:_MAC_BYTES]


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
