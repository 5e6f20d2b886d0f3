"""The console's sign-in through the identity provider: OpenID Connect authorization code with PKCE.

`begin` makes a fresh state, nonce and PKCE verifier and the provider's authorization URL (Authlib's
client). The three travel in a cookie that lives ten minutes, signed with a key derived from
CSRF_SECRET, HttpOnly, scoped to /console/oidc and SameSite=Lax: it must come back on the
provider's redirect, a cross-site navigation. `finish` checks the state against that cookie (so
nobody can sign a browser in with their own code), exchanges the code with the verifier, and
verifies the ID token like any bearer token — the provider's JWKS, issuer, audience (our client
id), times, subject — then its nonce and the role (ROLE_CLAIM) in it.

Pasting a token stays for development only: not offered nor accepted once a provider sign-in is
configured, nor outside development."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import jwt
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from backend.auth import TokenVerifier
from backend.errors import Unavailable
from backend.i18n import N_
from backend.identity.provider import Discovery
from backend.principal import Role
from backend.settings import OidcSettings, Settings

with warnings.catch_warnings():
    # Authlib 1.9 nudges towards httpx2; it still drives httpx (ours already), within the bound in
    # pyproject.toml. Its module switches its warnings on when imported, so they are silenced after.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

ATTEMPT_COOKIE = "si_oidc"
ATTEMPT_PATH = "/console/oidc"
ATTEMPT_TTL = timedelta(minutes=10)  # from the sign-in button to the provider's redirect back
CALLBACK_PATH = "/console/oidc/callback"

# Why a sign-in failed: msgids, worded by the console and the portal in the reader's language.
RETRY = N_("This sign-in has expired or was started in another window; please sign in again.")
REFUSED_BY_PROVIDER = N_("The identity provider did not confirm the sign-in; please sign in again.")
UNREACHABLE = N_("The identity provider cannot be reached now; please try again in a minute.")
STAFF_ONLY = N_("This console is for specialists and administrators only.")
# Who may open a console session: specialists (the queue) and admins (the operator pages).
CONSOLE_ROLES = frozenset({Role.SPECIALIST, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """What must come back with the provider's redirect: state (this browser), nonce (this ID
    token) and the PKCE verifier (this code)."""

    state: str
    nonce: str
    verifier: str


class SignInFailed(Exception):
    """The sign-in did not produce a specialist or an admin: the login page with this status and words."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def provider_sign_in(settings: Settings) -> OidcSettings | None:
    """The provider's settings when the console signs in through it."""
    return settings.oidc if settings.oidc is not None and settings.oidc.console_sign_in else None


def pasted_tokens_allowed(settings: Settings) -> bool:
    """Development only, and only while no provider sign-in is configured."""
    return provider_sign_in(settings) is None and settings.is_development()


def _cookie_key(settings: Settings) -> bytes:
    # A key of its own, derived: the CSRF tokens and these cookies cannot be swapped for each other.
    return hmac.new(settings.csrf_secret.encode(), b"selfinstall console oidc sign-in", hashlib.sha256).digest()


def seal(settings: Settings, attempt: SignInAttempt, now: datetime) -> str:
    """The cookie value: the attempt, signed and expiring."""
    claims = {"state": attempt.state, "nonce": attempt.nonce, "verifier": attempt.verifier, "exp": now + ATTEMPT_TTL}
    return jwt.encode(claims, _cookie_key(settings), algorithm="HS256")


def unseal(settings: Settings, value: str | None, now: datetime) -> SignInAttempt | None:
    """The attempt a cookie value holds, if we signed it and it has not expired by `now`."""
    if not value:
        return None
    try:  # the expiry is checked against our clock below, the one `seal` used
        claims = jwt.decode(value, _cookie_key(settings), algorithms=["HS256"], options={"verify_exp": False})
    except jwt.InvalidTokenError:
        return None
    expires, parts = claims.get("exp"), [claims.get(k) for k in ("state", "nonce", "verifier")]
    if not isinstance(expires, int) or expires <= now.timestamp() or not all(isinstance(p, str) for p in parts):
        return None
    return SignInAttempt(*parts)


def _same(given: str, kept: str) -> bool:
    """Constant-time equality; as bytes, because compare_digest refuses non-ASCII text (a 500)."""
    return hmac.compare_digest(given.encode(), kept.encode())


def _client(oidc: OidcSettings, redirect_url: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope=oidc.scopes,
        redirect_uri=redirect_url,
        code_challenge_method="S256",
        timeout=oidc.timeout_s,
    )


async def begin(oidc: OidcSettings, discovery: Discovery, redirect_url: str) -> tuple[str, SignInAttempt]:
    """The provider's authorization URL for a new attempt, and the attempt to keep in the cookie."""
    metadata = await discovery.metadata()
    attempt = SignInAttempt(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))
    async with _client(oidc, redirect_url) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=attempt.state, code_verifier=attempt.verifier, nonce=attempt.nonce
        )
    return url, attempt


async def finish(
    verifier: TokenVerifier,
    discovery: Discovery,
    attempt: SignInAttempt | None,
    params: Mapping[str, str],
    redirect_url: str,
    roles: frozenset[Role] = CONSOLE_ROLES,
    refused: str = STAFF_ONLY,
) -> Token:
    """The verified ID token of one of `roles` (the console's: a specialist or an admin; the portal's: a
    customer) for the provider's redirect back; SignInFailed otherwise, `refused` for another role."""
    oidc = provider_sign_in(verifier.settings)
    assert oidc is not None and oidc.client_id, "the callback is routed only with a provider sign-in"
    if "error" in params:  # the user cancelled, or the provider refused them
        raise SignInFailed(401, REFUSED_BY_PROVIDER)
    code = params.get("code", "")
    if attempt is None or not code or not _same(params.get("state", ""), attempt.state):
        raise SignInFailed(400, RETRY)
    try:
        metadata = await discovery.metadata()
        async with _client(oidc, redirect_url) as client:
            tokens = await client.fetch_token(metadata.token_endpoint, code=code, code_verifier=attempt.verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed(401, REFUSED_BY_PROVIDER)
        token = await verifier.verify(id_token, audience=oidc.client_id)
    except (OAuthError, NotAuthorizedException):
        raise SignInFailed(401, REFUSED_BY_PROVIDER) from None
    except (httpx.HTTPError, ValueError, Unavailable):
        raise SignInFailed(503, UNREACHABLE) from None
    if not _same(str(token.extras.get("nonce", "")), attempt.nonce):
        raise SignInFailed(401, REFUSED_BY_PROVIDER)  # an ID token issued for another sign-in
    if verifier.role(token) not in roles:
        raise SignInFailed(403, refused)
    return token
