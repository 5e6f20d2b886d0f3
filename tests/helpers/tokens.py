"""Bearer tokens for tests that probe the verifier claim by claim."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from backend.settings import Settings


def customer_token(settings: Settings, secret: str | None = None, **changes: Any) -> str:
    """A customer token valid in every respect but the `changes` (a value of None drops the claim),
    signed with `secret` (default: the settings' own)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": f"customer-{uuid.uuid4().hex[:8]}",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int((now - timedelta(minutes=1)).timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "extras": {"role": "customer"},
    }
    claims.update(changes)
    signed = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(signed, secret or settings.jwt_secret, algorithm="HS256")
