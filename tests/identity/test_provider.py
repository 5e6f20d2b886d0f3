"""API tokens from a real (local) OpenID Connect provider, verified through its JWKS: the role claim
path, audience and issuer, key rotation, the refetch cooldown, and the provider being down."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.app import create_app
from backend.principal import Role
from backend.settings import load_settings
from tests.factories import Factory
from tests.helpers.oidc_provider import CLIENT_ID, LocalProvider, local_provider
from tests.helpers.server import free_port

INSTALLS = "/mobile/v1/installs"  # customers and installers
QUEUE = "/review/v1/queue"  # specialists


@asynccontextmanager
async def _app(provider_url: str, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app trusting the provider at `provider_url` (API tokens: audience = the client id).
    Needs the `client` fixture (the pool)."""
    settings = load_settings(
        {**os.environ, "OIDC_ISSUER": provider_url, "JWT_AUDIENCE": CLIENT_ID, "JWKS_COOLDOWN_S": "0", **env}
    )
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            yield c
    finally:
        app.state.ctx.cpu.shutdown()


def _token_for(provider: LocalProvider, claims: dict[str, Any], **kwargs: Any) -> str:
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.set_user(sub, claims)
    return provider.id_token(sub, **kwargs)


def _forged(provider: LocalProvider, *, kid: str | None, claims: dict[str, Any] | None = None) -> str:
    """A token right in every claim, signed by a key the provider never had."""
    now = datetime.now(UTC)
    body = {
        "sub": "forger",
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "iat": now - timedelta(minutes=1),
        "exp": now + timedelta(hours=1),
        "role": "admin",
        **(claims or {}),
    }
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid} if kid else {})


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_401(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "auth/unauthenticated"


class TestProviderTokens:
    async def test_a_provider_token_is_verified_by_its_jwks(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        async with _app(oidc_provider.url) as app:
            r = await app.get(INSTALLS, headers=_bearer(_token_for(oidc_provider, {"role": "customer"})))
        assert r.status_code == 200, r.text

    async def test_keycloak_realm_roles(self, client: httpx.AsyncClient, oidc_provider: LocalProvider) -> None:
        roles = {"realm_access": {"roles": ["offline_access", "uma_authorization", "specialist"]}}
        async with _app(oidc_provider.url, ROLE_CLAIM="realm_access.roles") as app:
            specialist = _bearer(_token_for(oidc_provider, roles))
            assert (await app.get(QUEUE, headers=specialist)).status_code == 200
            assert (await app.get(INSTALLS, headers=specialist)).status_code == 403  # the role decides
            top_level_only = _bearer(_token_for(oidc_provider, {"role": "specialist"}))
            _assert_401(await app.get(QUEUE, headers=top_level_only))  # not where ROLE_CLAIM points

    async def test_entra_app_roles_through_the_role_map(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        env = {"ROLE_CLAIM": "roles", "ROLE_MAP": "Selfinstall.Specialist:specialist,Selfinstall.Admin:admin"}
        async with _app(oidc_provider.url, **env) as app:
            mapped = _bearer(_token_for(oidc_provider, {"roles": ["Selfinstall.Specialist"]}))
            assert (await app.get(QUEUE, headers=mapped)).status_code == 200
            unmapped = _bearer(_token_for(oidc_provider, {"roles": ["specialist"]}))
            _assert_401(await app.get(QUEUE, headers=unmapped))
            two = _bearer(_token_for(oidc_provider, {"roles": ["Selfinstall.Specialist", "Selfinstall.Admin"]}))
            _assert_401(await app.get(QUEUE, headers=two))

    async def test_a_token_for_another_audience_is_refused(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        token = _token_for(oidc_provider, {"role": "customer"}, client_id="another-application")
        async with _app(oidc_provider.url) as app:
            _assert_401(await app.get(INSTALLS, headers=_bearer(token)))

    async def test_a_token_naming_another_issuer_is_refused(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        """Signed by the provider's own key, but naming another issuer (the provider asked by another name)."""
        port = oidc_provider.url.rsplit(":", 1)[1]
        token = _token_for(oidc_provider, {"role": "customer"}, asked_at=f"localhost:{port}")
        assert jwt.decode(token, options={"verify_signature": False})["iss"] != oidc_provider.issuer
        async with _app(oidc_provider.url) as app:
            _assert_401(await app.get(INSTALLS, headers=_bearer(token)))

    async def test_forged_and_development_tokens_are_refused(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider, make: Factory
    ) -> None:
        real = _token_for(oidc_provider, {"role": "customer"})
        refused = {
            "the provider's key id, another key": _forged(oidc_provider, kid=_kid(real)),
            "no key id": _forged(oidc_provider, kid=None),
            "the development secret (HS256)": make.party(Role.ADMIN).headers["Authorization"].removeprefix("Bearer "),
            "alg none": jwt.encode({"sub": "x", "role": "admin"}, None, algorithm="none", headers={"kid": _kid(real)}),
            "not a JWT": "not-a-token",
        }
        async with _app(oidc_provider.url) as app:
            assert (await app.get(INSTALLS, headers=_bearer(real))).status_code == 200
            for case, token in refused.items():
                r = await app.get(INSTALLS, headers=_bearer(token))
                assert r.status_code == 401, (case, r.text)


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


MALFORMED_HEADERS = {
    "not base64": "%%%.e30.sig",
    "not JSON": base64.urlsafe_b64encode(b"{not json").decode() + ".e30.sig",
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe").decode() + ".e30.sig",
    "a list": _segment(["kid"]) + ".e30.sig",
    "a numeric kid": _segment({"alg": "RS256", "kid": 7}) + ".e30.sig",
    "a huge kid": _segment({"alg": "RS256", "kid": "k" * 10_000}) + ".e30.sig",
    "a huge header": _segment({"alg": "RS256", "kid": "k", "x": "y" * 10_000}) + ".e30.sig",
}


class TestMalformedTokens:
    @pytest.mark.parametrize("case", sorted(MALFORMED_HEADERS))
    async def test_refused_without_asking_the_provider(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider, case: str
    ) -> None:
        async with _app(oidc_provider.url) as app:
            before = len(oidc_provider.served("/jwks"))
            _assert_401(await app.get(INSTALLS, headers=_bearer(MALFORMED_HEADERS[case])))
        assert len(oidc_provider.served("/jwks")) == before


class TestKeyRotation:
    async def test_a_new_key_is_fetched_and_the_retired_one_refused(self, client: httpx.AsyncClient) -> None:
        with local_provider() as provider:  # its own: rotating the shared one would race other tests
            old = _token_for(provider, {"role": "customer"})
            async with _app(provider.url) as app:
                assert (await app.get(INSTALLS, headers=_bearer(old))).status_code == 200
                assert (await app.get(INSTALLS, headers=_bearer(old))).status_code == 200
                assert len(provider.served("/jwks")) == 1  # the second request used the cached key set

                provider.rotate_key()
                new = _token_for(provider, {"role": "customer"})
                assert _kid(new) != _kid(old)
                assert (await app.get(INSTALLS, headers=_bearer(new))).status_code == 200
                assert len(provider.served("/jwks")) == 2  # the unknown key id fetched the set again
                _assert_401(await app.get(INSTALLS, headers=_bearer(old)))  # its key is no longer published

    async def test_unknown_key_ids_refetch_at_most_once_per_cooldown(self, client: httpx.AsyncClient) -> None:
        """Made-up key ids cannot make us hammer the provider; the price is that a key rotated in
        within the cooldown is accepted only once it has passed."""
        with local_provider() as provider:
            token = _token_for(provider, {"role": "customer"})
            async with _app(provider.url, JWKS_COOLDOWN_S="3600") as app:
                assert (await app.get(INSTALLS, headers=_bearer(token))).status_code == 200
                for n in range(5):
                    _assert_401(await app.get(INSTALLS, headers=_bearer(_forged(provider, kid=f"made-up-{n}"))))
                provider.rotate_key()
                _assert_401(await app.get(INSTALLS, headers=_bearer(_token_for(provider, {"role": "customer"}))))
                assert len(provider.served("/jwks")) == 1


@contextmanager
def _resetting_endpoint() -> Iterator[str]:
    """A URL whose server takes each request, then resets the connection (RST) instead of answering:
    a provider going down mid-request, which PyJWT lets through as a bare ConnectionResetError."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            conn.recv(4096)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/jwks"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
        listener.close()
        thread.join(timeout=5)


class TestProviderOutage:
    async def test_a_connection_reset_by_the_provider_is_503(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        token = _token_for(oidc_provider, {"role": "customer"})
        with _resetting_endpoint() as jwks_url:
            async with _app("", OIDC_ISSUER="", JWKS_URL=jwks_url) as app:
                r = await app.get(INSTALLS, headers=_bearer(token))
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "service/identity-provider-unavailable"
        assert int(r.headers["retry-after"]) >= 1

    async def test_an_unreachable_provider_is_503_with_retry_after(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        token = _token_for(oidc_provider, {"role": "customer"})  # well formed, from a provider now elsewhere
        async with _app(f"http://127.0.0.1:{free_port()}") as app:
            r = await app.get(INSTALLS, headers=_bearer(token))
            english = await app.get(INSTALLS, headers={**_bearer(token), "Accept-Language": "en"})
            _assert_401(await app.get(INSTALLS, headers=_bearer("not-a-token")))  # refused without asking
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "service/identity-provider-unavailable"
        assert int(r.headers["retry-after"]) >= 1
        assert "aanmelddienst" in r.json()["detail"]
        assert "sign-in service" in english.json()["detail"]

    async def test_keys_already_fetched_still_verify_while_the_provider_is_down(
        self, client: httpx.AsyncClient
    ) -> None:
        with local_provider() as provider:
            token = _token_for(provider, {"role": "customer"})
            stranger = _forged(provider, kid="never-published")
            # A key set that is stale at once: every request after the first wants to refetch it.
            async with _app(provider.url, JWKS_CACHE_S="0.000001") as app:
                assert (await app.get(INSTALLS, headers=_bearer(token))).status_code == 200
                provider.stop()
                r = await app.get(INSTALLS, headers=_bearer(token))
                assert r.status_code == 200, r.text  # an outage of the provider signs nobody out
                r = await app.get(INSTALLS, headers=_bearer(stranger))
                assert r.status_code == 503, r.text  # a key it never had cannot be checked now
