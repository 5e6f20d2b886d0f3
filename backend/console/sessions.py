"""Sign-in sessions of the console and of the customers' portal (backend/portal/access.py: its own
cookie, role customer), ended on the server at sign-out.

The cookie carries 256 random bits, not the sign-in token: a copied cookie dies with the session,
and the database keeps only the value's SHA-256. A session lasts as long as its sign-in token did.

`session_first`: the middleware that looks a controller's session up before any of a request's body is
read (each app with its own cookie, roles and refusal)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

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


class SessionFirst:
    """A controller's middleware for pages that need a session: the principal the `cookie` names, if of one
    of `roles`, becomes `scope["user"]` (`request.user`, as the API's bearer middleware does); else
    `refusal()` is raised, which the controller's (or the app's) exception handlers answer. A controller's
    middleware runs outside Litestar's CSRF middleware, which reads a url-encoded or multipart body to find
    the form's token, and outside the handler's parameters: a request without a session is answered before
    any of its body is received or parsed."""

    def __init__(self, app: ASGIApp, *, cookie: str, roles: frozenset[Role], refusal: Callable[[], Exception]) -> None:
        self.app = app
        self.cookie = cookie
        self.roles = roles
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        who = await session_principal(connection.cookies.get(self.cookie), connection.app.state.ctx.clock())
        if who is None or who.role not in self.roles:
            raise self.refusal()
        scope["user"] = who
        await self.app(scope, receive, send)


def session_first(cookie: str, roles: frozenset[Role], refusal: Callable[[], Exception]) -> DefineMiddleware:
    """`SessionFirst` for a controller's `middleware`: whose cookie, which roles, and the answer to none."""
    return DefineMiddleware(SessionFirst, cookie=cookie, roles=roles, refusal=refusal)
