"""Sign-in sessions of the console and of the customers' portal (backend/portal/access.py: its own
cookie, role customer), ended on the server at sign-out.

The cookie carries 256 random bits, not the sign-in token: a copied cookie dies with the session,
and the database keeps only the value's SHA-256. A session lasts as long as its sign-in token did."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from backend.console import repository
from backend.principal import Principal, Role

SESSION_BYTES = 32
_MAX_COOKIE_LENGTH = 64  # token_urlsafe(32) is 43 characters: anything longer is not ours, skip the query


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def open_session(who: Principal, now: datetime, expires_at: datetime) -> str:
    """A new session for `who` (a specialist or an admin; a customer in the portal); returns the cookie value."""
    await repository.delete_expired_sessions(now)
    value = secrets.token_urlsafe(SESSION_BYTES)
    await repository.insert_session(_digest(value), who.subject, who.role.value, now, expires_at)
    return value


async def session_principal(value: str | None, now: datetime) -> Principal | None:
    """Who holds this cookie value, in the role they signed in with, if its session is still open."""
    if not value or len(value) > _MAX_COOKIE_LENGTH:
        return None
    row = await repository.live_session(_digest(value), now)
    return Principal(subject=row[0], role=Role(row[1])) if row else None


async def end_session(value: str | None) -> None:
    """Sign-out: the cookie value opens nothing from now on, in any worker."""
    if value and len(value) <= _MAX_COOKIE_LENGTH:
        await repository.delete_session(_digest(value))
