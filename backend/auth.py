"""JWT bearer authentication, roles and the Principal every service call is scoped by.

Roles: customer, installer, specialist, admin, and system (another system of the operator, e.g.
a head-end; it may reach /integrations only).

In development tokens are HS256 with `JWT_SECRET`. A real identity provider is named by
`OIDC_ISSUER` (or `JWKS_URL`): its JWKS verifies tokens (backend/identity/provider.py); one fixed PEM
public key in `JWT_SECRET` with `JWT_ALGORITHM=RS256` also works. The role is wherever `ROLE_CLAIM`
says (backend/identity/roles.py). Every token must carry `iss`, `aud`, `iat` and `exp`, may live at
most `JWT_MAX_LIFETIME_S`, and its subject must fit the subject columns.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from backend.bounds import EMAIL_PATTERN
from backend.identity.provider import IdentityProvider, UnknownKey, identity_provider
from backend.identity.roles import role_of
from backend.principal import Principal, Role
from backend.settings import Settings

MAX_SUBJECT_LENGTH = 128  # the subject columns (owner_subject, claimed_by, actor, ...) are Varchar(128)
REQUIRED_CLAIMS = ("sub", "iss", "aud", "iat", "exp")
VERIFIED_TOKENS_KEPT = 4096  # per worker: a phone sends the same token until it expires
PRUNE_INTERVAL_S = 60.0  # a full cache drops its expired tokens at most this often (a sweep walks every entry)


def check_claims(settings: Settings, token: Token) -> None:
    """What decoding does not check: a bounded lifetime, and a subject the database and the pages can hold."""
    if token.exp - token.iat > timedelta(seconds=settings.jwt_max_lifetime_s):
        raise NotAuthorizedException("token lives longer than allowed")
    if not subject_fits(token.sub):
        raise NotAuthorizedException("token subject is too long or not printable")


def subject_fits(subject: str) -> bool:
    """1 to 128 printable characters: isprintable() refuses NUL, control, format (bidi, zero-width)
    and non-ASCII space characters, which would be stored, shown to specialists and logged."""
    return 0 < len(subject) <= MAX_SUBJECT_LENGTH and subject.isprintable()


class _Verified(NamedTuple):
    token: Token
    key: Any  # the key that verified it
    expires: float  # its `exp`, POSIX seconds


class TokenVerifier:
    """Checks a token one way for the bearer middleware and the console's sign-in alike.

    A token once verified is remembered (by its SHA-256 and the audience asked for) until its `exp`:
    a phone sends the same token with every request, and verifying it again cost a fifth of a
    request's time. What can change meanwhile is still checked every time: the clock against `exp`
    (PyJWT's rule: valid while now < exp), and the key, which must still be the one the provider
    publishes (a rotated-out key refuses its tokens at once; a refetched key set verifies each
    token once more). Bounded: expired entries go first, then the oldest."""

    def __init__(
        self,
        settings: Settings,
        provider: IdentityProvider,
        kept: int = VERIFIED_TOKENS_KEPT,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self._kept = kept
        self._verified: dict[tuple[bytes, str | None], _Verified] = {}
        self._next_prune = 0.0  # a full cache is swept for expired entries at most this often, not per token

    async def verify(self, encoded: str, audience: str | None = None) -> Token:
        """The token if its signature, issuer, audience (ours unless given), times and subject hold;
        401 otherwise, 503 while the provider's keys cannot be had."""
        try:
            key = await self.provider.keys.key_for(encoded)
        except UnknownKey:
            raise NotAuthorizedException("no key verifies this token") from None
        cache_key = (hashlib.sha256(encoded.encode()).digest(), audience)
        seen = self._verified.get(cache_key)
        if seen is not None:
            if seen.key is key and time.time() < seen.expires:
                return seen.token
            del self._verified[cache_key]
        token = Token.decode(
            encoded,
            key,  # a str, or the PyJWK of a provider's key (PyJWT takes either)
            self.settings.jwt_algorithm,
            audience=[audience or self.settings.jwt_audience],
            issuer=[self.settings.jwt_issuer],
            require_claims=REQUIRED_CLAIMS,
        )
        check_claims(self.settings, token)
        self._remember(cache_key, _Verified(token, key, token.exp.timestamp()))
        return token

    def _remember(self, cache_key: tuple[bytes, str | None], verified: _Verified) -> None:
        if len(self._verified) >= self._kept:
            now = time.time()
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_INTERVAL_S
                for k in [k for k, v in self._verified.items() if v.expires <= now]:
                    del self._verified[k]
            while len(self._verified) >= self._kept:
                del self._verified[next(iter(self._verified))]
        self._verified[cache_key] = verified

    def role(self, token: Token) -> Role | None:
        """The token's one role of ours (ROLE_CLAIM, ROLE_MAP), or None."""
        return role_of(token.extras, self.settings.role_claim, self.settings.role_map)


def _principal_of(verifier: TokenVerifier):  # noqa: ANN202 - Litestar's retrieve_user_handler
    async def retrieve(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        role = verifier.role(token)
        if role is None:
            raise NotAuthorizedException("token carries no known role")
        return Principal(subject=token.sub, role=role, email=_email_of(token.extras))

    return retrieve


def _email_of(claims: dict[str, Any]) -> str | None:
    """The token's e-mail address, if the provider says it verified it (`email_verified` true: a missing
    claim vouches for nothing, the address may be anyone's) and it looks like one."""
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str):
        return None
    return email if len(email) <= 254 and EMAIL_PATTERN.fullmatch(email) else None


class _VerifyingMiddleware(JWTAuthenticationMiddleware):
    """Litestar's bearer middleware, verifying through TokenVerifier: the key is looked up per token
    (a provider's JWKS may need a fetch, which Litestar's synchronous decode cannot wait for)."""

    def __init__(self, *, verifier: TokenVerifier, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = verifier

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = await self.verifier.verify(encoded_token)
        return AuthenticationResult(user=await self.retrieve_user_handler(token, connection), auth=token)


@dataclass
class _VerifyingJWTAuth(JWTAuth[Principal, Token]):
    verifier: TokenVerifier = field(kw_only=True)

    @property
    def middleware(self) -> DefineMiddleware:
        base = super().middleware
        return DefineMiddleware(_VerifyingMiddleware, *base.args, verifier=self.verifier, **base.kwargs)

    @property
    def openapi_components(self) -> Components:
        # An http scheme has no `name` (only apiKey schemes do): Litestar's carries one, which fails validation.
        return Components(
            security_schemes={
                self.openapi_security_scheme_name: SecurityScheme(
                    type="http", scheme="bearer", bearer_format="JWT", description="A JWT from the identity provider."
                )
            }
        )


def jwt_auth(settings: Settings, verifier: TokenVerifier | None = None) -> JWTAuth[Principal, Token]:
    """The bearer-token middleware; /schema, /health, /metrics, /console and /portal (their own sessions) stay public.

    Every method is authenticated: Litestar skips OPTIONS and HEAD by default, and the role guards
    of those routes then found no user (a 500). The patterns are anchored: Litestar searches them
    anywhere in the path, so `/…/photos/health` would have skipped authentication."""
    verifier = verifier or TokenVerifier(settings, identity_provider(settings))
    return _VerifyingJWTAuth(
        verifier=verifier,
        retrieve_user_handler=_principal_of(verifier),
        token_secret=settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        accepted_issuers=[settings.jwt_issuer],
        accepted_audiences=[settings.jwt_audience],
        require_claims=REQUIRED_CLAIMS,
        exclude=["^/schema", "^/health", "^/metrics", "^/console", "^/portal"],
        exclude_http_methods=[],
    )


def issue_token(settings: Settings, subject: str, role: Role, ttl: timedelta, email: str | None = None) -> str:
    """A signed development token (the `selfinstall token` command) that passes every check above; with
    `email`, the `email` claim a provider's token carries, verified (where a customer's e-mail goes by
    default)."""
    if settings.oidc is not None:
        raise ValueError("tokens come from the identity provider (OIDC_ISSUER or JWKS_URL is set)")
    if ttl.total_seconds() > settings.jwt_max_lifetime_s:
        raise ValueError(f"a token may live at most {settings.jwt_max_lifetime_s} s (JWT_MAX_LIFETIME_S)")
    if not subject_fits(subject):
        raise ValueError(f"a subject is 1 to {MAX_SUBJECT_LENGTH} printable characters")
    if email is not None and _email_of({"email": email, "email_verified": True}) is None:
        raise ValueError(f"{email!r} does not look like an e-mail address")
    return jwt_auth(settings).create_token(
        identifier=subject,
        token_expiration=ttl,
        token_issuer=settings.jwt_issuer,
        token_audience=settings.jwt_audience,
        token_extras={"role": role.value, **({"email": email, "email_verified": True} if email else {})},
    )


async def confine_systems(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """App-wide guard: a system token reaches /integrations only, whatever a controller admits (a
    route added without guards must not become a back door for another system). Guards and hooks are
    async: Litestar runs a sync one in a worker thread, a thread hop on every request."""
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

    async def guard(connection: ASGIConnection[Any, Principal, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")  # absent on a route excluded from authentication
        if not isinstance(user, Principal):
            raise NotAuthorizedException("no credentials")
        if user.role not in allowed:
            raise PermissionDeniedException("role not allowed")

    return guard
