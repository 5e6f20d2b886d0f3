"""The provider's metadata (its discovery document) and the keys that verify its tokens.

Keys come from the provider's JWKS through PyJWT's `PyJWKClient`: the key set is cached for
`JWKS_CACHE_S`, and a token naming a key id the cache does not hold refetches it (a rotation),
at most once per `JWKS_COOLDOWN_S`, so tokens with made-up key ids cannot make us hammer the
provider. The common case, a known key in a fresh cache, costs no I/O and no thread; a fetch runs
in a thread (PyJWKClient is synchronous) so the event loop never waits on the provider.

When the provider cannot be reached, a key we already had still verifies (an outage of the
provider does not sign everybody out); a token needing a key we cannot fetch is answered 503 with
Retry-After, and for `JWKS_COOLDOWN_S` no request tries the provider again (each would otherwise
wait out the timeout)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from backend.errors import Unavailable
from backend.settings import OidcSettings, Settings

log = logging.getLogger("selfinstall.identity")

MAX_KID_LENGTH = 256  # a key id longer than any provider's is not worth a lookup
MAX_HEADER_LENGTH = 4096  # a JOSE header is a few hundred characters


class UnknownKey(Exception):
    """No key we have or can fetch verifies this token: 401."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What the console and the verifier need of the provider's discovery document."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str


class OutageGate:
    """After a failed request to the provider, none is tried for `pause_s`: 503 at once instead."""

    def __init__(self, pause_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._pause_s = pause_s
        self._monotonic = monotonic
        self._closed_until = 0.0

    def closed_for(self) -> float:
        """Seconds until the provider may be tried again (0: now)."""
        return max(0.0, self._closed_until - self._monotonic())

    def failed(self) -> None:
        self._closed_until = self._monotonic() + self._pause_s

    def unavailable(self) -> Unavailable:
        return Unavailable("service/identity-provider-unavailable", retry_after_s=max(1, math.ceil(self.closed_for())))


class Discovery:
    """The provider's discovery document, fetched on first use and kept for the process."""

    def __init__(self, oidc: OidcSettings, gate: OutageGate) -> None:
        assert oidc.issuer and oidc.discovery, "discovery needs the provider's issuer"
        self._issuer = oidc.issuer
        self._url = oidc.discovery
        self._timeout_s = oidc.timeout_s
        self._gate = gate
        self._metadata: ProviderMetadata | None = None
        self._lock = asyncio.Lock()  # one fetch however many requests wait for it

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints; Unavailable (503) while its document cannot be had."""
        if self._metadata is not None:
            return self._metadata
        async with self._lock:
            if self._metadata is None:
                if self._gate.closed_for():
                    raise self._gate.unavailable()
                try:
                    self._metadata = await self._fetch()
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("identity provider discovery at %s failed: %s", self._url, exc)
                    self._gate.failed()
                    raise self._gate.unavailable() from None
        return self._metadata

    async def _fetch(self) -> ProviderMetadata:
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            response = await client.get(self._url)
        response.raise_for_status()
        doc = response.json()
        if not isinstance(doc, dict):
            raise ValueError("the discovery document is not a JSON object")
        # OpenID Connect Discovery 1.0, 4.3: the document must name exactly the issuer we trust.
        if doc.get("issuer") != self._issuer:
            raise ValueError(f"the document names issuer {doc.get('issuer')!r}, OIDC_ISSUER is {self._issuer!r}")
        fields = ("jwks_uri", "authorization_endpoint", "token_endpoint")
        values = [doc.get(f) for f in fields]
        if not all(isinstance(v, str) and v.startswith(("https://", "http://")) for v in values):
            raise ValueError(f"the document lacks one of {', '.join(fields)}")
        return ProviderMetadata(self._issuer, *values)


class KeySource(Protocol):
    async def key_for(self, encoded: str) -> Any:
        """The key that verifies this token's signature (its header is not trusted beyond the key id)."""
        ...


@dataclass(frozen=True, slots=True)
class StaticKey:
    """JWT_SECRET: the HS256 development secret, or one PEM public key."""

    key: str

    async def key_for(self, encoded: str) -> str:
        return self.key


class JwksKeys:
    """The provider's signing keys by key id, from its JWKS (see the module docstring)."""

    def __init__(self, oidc: OidcSettings, discovery: Discovery | None, gate: OutageGate) -> None:
        self._oidc = oidc
        self._discovery = discovery
        self._gate = gate
        self._client: PyJWKClient | None = None

    async def key_for(self, encoded: str) -> PyJWK:
        # A PyJWK, not its raw key: PyJWT then verifies with the key's own algorithm and refuses a
        # header naming another (an RS256 header on an EC key would otherwise be a TypeError).
        kid = _kid_of(encoded)
        client = await self._jwks_client()
        cache = client.jwk_set_cache
        fresh = cache.get() if cache is not None else None
        if fresh is not None and (key := _find(fresh, kid)) is not None:
            return key
        if self._gate.closed_for():
            return self._stale(client, kid)
        try:
            return await asyncio.to_thread(client.get_signing_key, kid)
        # OSError: a connection reset while reading the answer escapes PyJWT's own wrapping (a provider
        # going down mid-request); ValueError: not JSON.
        except (PyJWKClientConnectionError, PyJWKSetError, OSError, ValueError) as exc:
            log.warning("identity provider keys at %s could not be fetched: %s", client.uri, exc)
            self._gate.failed()
            return self._stale(client, kid)
        except PyJWKClientError as exc:  # the fetched set does not hold this key id
            raise UnknownKey(str(exc)) from None

    async def _jwks_client(self) -> PyJWKClient:
        if self._client is None:
            url = self._oidc.jwks_url
            if url is None:
                assert self._discovery is not None, "JwksKeys needs JWKS_URL or OIDC_ISSUER"
                url = (await self._discovery.metadata()).jwks_uri
            self._client = PyJWKClient(
                url,
                cache_jwk_set=True,
                lifespan=self._oidc.jwks_cache_s,
                cooldown_duration=self._oidc.jwks_cooldown_s,
                timeout=self._oidc.timeout_s,
            )
        return self._client

    def _stale(self, client: PyJWKClient, kid: str) -> PyJWK:
        """A key from the last key set fetched, however old, while the provider cannot be reached."""
        held = client.jwk_set_cache.jwk_set_with_timestamp if client.jwk_set_cache is not None else None
        key = _find(held.get_jwk_set(), kid) if held is not None else None
        if key is None:
            raise self._gate.unavailable()
        return key


def _kid_of(encoded: str) -> str:
    """The key id in the token's header, read from the header alone: PyJWT's get_unverified_header
    decodes and validates the whole token, which the verification then does again (a third of
    a verification's time). Nothing here is trusted beyond choosing the key."""
    segment = encoded.partition(".")[0]
    try:
        if len(segment) > MAX_HEADER_LENGTH:
            raise ValueError("header too long")
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise UnknownKey("not a JWT") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise UnknownKey("the token names no key id")
    return kid


def _find(jwk_set: PyJWKSet, kid: str) -> PyJWK | None:
    return next((k for k in jwk_set.keys if k.key_id == kid and k.public_key_use in ("sig", None)), None)


@dataclass(frozen=True, slots=True)
class IdentityProvider:
    """One per app: the key source that verifies tokens and, with an issuer, the provider's metadata."""

    keys: KeySource
    discovery: Discovery | None = None


def identity_provider(settings: Settings) -> IdentityProvider:
    """The provider the settings name: JWKS (with discovery when there is an issuer) or JWT_SECRET."""
    oidc = settings.oidc
    if oidc is None:
        return IdentityProvider(StaticKey(settings.jwt_secret))
    gate = OutageGate(oidc.jwks_cooldown_s)
    discovery = Discovery(oidc, gate) if oidc.issuer else None
    return IdentityProvider(JwksKeys(oidc, discovery, gate), discovery)
