"""JWT bearer authentication, roles and the Principal every service call is scoped by.

Roles: customer, installer, specialist, admin, and system (another system of the operator, e.g.
a head-end; it may reach /integrations only).

In development tokens are HS256 with `JWT_SECRET`. A real identity provider plugs in by setting
`JWT_ALGORITHM=RS256` (or ES256) and `JWT_SECRET` to its PEM public key, and `JWT_ISSUER` to its
issuer; the provider must put the role in a `role` claim (top level or under `extras`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from backend.principal import Principal, Role
from backend.settings import Settings


async def _retrieve_principal(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    try:
        role = Role(token.extras.get("role", ""))
    except ValueError:
        raise NotAuthorizedException("token carries no known role") from None
    return Principal(subject=token.sub, role=role)


def jwt_auth(settings: Settings) -> JWTAuth[Principal, Token]:
    """The bearer-token middleware; /schema, /health and /metrics stay public."""
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_retrieve_principal,
        token_secret=settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        accepted_issuers=[settings.jwt_issuer] if settings.jwt_issuer else None,
        exclude=["/schema", "/health", "/metrics", "/console"],
    )


def issue_token(settings: Settings, subject: str, role: Role, ttl: timedelta) -> str:
    """A signed development token (the `selfinstall token` command)."""
    return jwt_auth(settings).create_token(
        identifier=subject, token_expiration=ttl, token_issuer=settings.jwt_issuer, token_extras={"role": role.value}
    )


def confine_systems(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """App-wide guard: a system token reaches /integrations only, whatever a controller admits (a
    route added without guards must not become a back door for another system)."""
    user = connection.scope.get("user")
    if (
        isinstance(user, Principal)
        and user.role is Role.SYSTEM
        and not connection.url.path.startswith("/integrations/")
    ):
        raise PermissionDeniedException("role not allowed")


def requires_role(*roles: Role):  # noqa: ANN201 - a Litestar guard factory
    """A guard that admits only the given roles (403 otherwise)."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Principal, Any, Any], _: BaseRouteHandler) -> None:
        if connection.user.role not in allowed:
            raise PermissionDeniedException("role not allowed")

    return guard
