"""Bearer tokens: audience, issuer, a bounded lifetime and a subject the database can hold; OPTIONS
and HEAD on every route, with or without a token, are answered without a server error."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from litestar import Litestar
from litestar.exceptions import NotAuthorizedException
from litestar.routes import HTTPRoute

from backend.app import create_app
from backend.auth import TokenVerifier, issue_token
from backend.identity.provider import identity_provider
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.helpers.tokens import customer_token

LIST = "/mobile/v1/installs"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_401(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "auth/unauthenticated"


NOW = int(datetime.now(UTC).timestamp())
TEN_YEARS = 10 * 365 * 24 * 3600
# Each token differs from the accepted one in exactly one property.
REFUSED: dict[str, Any] = {
    "no_audience": lambda s: customer_token(s, aud=None),
    "wrong_audience": lambda s: customer_token(s, aud="another-service"),
    "no_issuer": lambda s: customer_token(s, iss=None),
    "wrong_issuer": lambda s: customer_token(s, iss="https://somebody-else.example"),
    "no_issued_at": lambda s: customer_token(s, iat=None),
    "no_expiry": lambda s: customer_token(s, exp=None),
    "ten_years": lambda s: customer_token(s, iat=NOW - 60, exp=NOW + TEN_YEARS),
    "just_over_max_lifetime": lambda s: customer_token(s, iat=NOW - 60, exp=NOW - 60 + s.jwt_max_lifetime_s + 1),
    "issued_in_the_future": lambda s: customer_token(s, iat=NOW + 3600, exp=NOW + 7200),
    "not_yet_valid": lambda s: customer_token(s, nbf=NOW + 3600),
    "subject_129": lambda s: customer_token(s, sub="c" * 129),
    "subject_10k": lambda s: customer_token(s, sub="c" * 10_000),
    "subject_empty": lambda s: customer_token(s, sub=""),
    "subject_nul": lambda s: customer_token(s, sub="customer\x00x"),
    "subject_control": lambda s: customer_token(s, sub="customer\x07\x1b[31m"),
    "subject_bidi_override": lambda s: customer_token(s, sub="customer\u202ex"),
    "subject_zero_width": lambda s: customer_token(s, sub="custo\u200bmer"),
    "subject_number": lambda s: customer_token(s, sub=12345),
    "subject_list": lambda s: customer_token(s, sub=["a", "b"]),
    "role_list_of_two": lambda s: customer_token(s, extras={"role": ["customer", "admin"]}),  # one role per principal
    "role_list_of_numbers": lambda s: customer_token(s, extras={"role": [1, 2]}),
    "role_object": lambda s: customer_token(s, extras={"role": {"name": "customer"}}),
    "role_unknown": lambda s: customer_token(s, extras={"role": "superuser"}),
    "expiry_overflows": lambda s: customer_token(s, exp=10**20),
}


class TestTokenClaims:
    async def test_the_control_token_is_accepted(self, client: httpx.AsyncClient, settings: Settings) -> None:
        r = await client.get(LIST, headers=_bearer(customer_token(settings)))
        assert r.status_code == 200, r.text

    async def test_exactly_the_maximum_lifetime_is_accepted(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        token = customer_token(settings, iat=NOW - 60, exp=NOW - 60 + settings.jwt_max_lifetime_s)
        assert (await client.get(LIST, headers=_bearer(token))).status_code == 200

    async def test_an_audience_list_naming_us_is_accepted(self, client: httpx.AsyncClient, settings: Settings) -> None:
        """Identity providers often issue for several audiences at once."""
        token = customer_token(settings, aud=["account", settings.jwt_audience])
        assert (await client.get(LIST, headers=_bearer(token))).status_code == 200

    @pytest.mark.parametrize("case", sorted(REFUSED))
    async def test_refused_with_401_problem(self, client: httpx.AsyncClient, settings: Settings, case: str) -> None:
        token = REFUSED[case](settings)
        _assert_401(await client.get(LIST, headers=_bearer(token)))
        _assert_401(await client.post("/mobile/v1/connections/claim", headers=_bearer(token), json={}))

    async def test_a_128_character_subject_is_stored(
        self, client: httpx.AsyncClient, settings: Settings, make: Factory
    ) -> None:
        """The longest allowed subject fits the subject columns (PostgreSQL refused 129 with a 500)."""
        subject = "c" * 120 + uuid.uuid4().hex[:8]
        who = make.party(Role.CUSTOMER, subject)
        ean = await make.connection()
        body = {"ean": ean, "postcode": "6811AL", "house_number": 14}
        r = await client.post("/mobile/v1/connections/claim", headers=who.headers, json=body)
        assert r.status_code == 201, r.text
        install = {"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "smart_meter_1p"}
        r = await client.post(LIST, headers=who.headers, json=install)
        assert r.status_code == 201, r.text
        assert [i["id"] for i in (await client.get(LIST, headers=who.headers)).json()["items"]] == [install["id"]]

    @pytest.mark.parametrize(
        ("verified", "used"), [(True, True), (None, False), (False, False), ("true", False), (1, False)]
    )
    async def test_the_email_claim_counts_only_when_the_provider_verified_it(
        self, client: httpx.AsyncClient, settings: Settings, verified: Any, used: bool
    ) -> None:
        """A missing `email_verified` vouches for nothing: the address may be anyone's, and a customer's
        messages would go there (only a true boolean counts)."""
        extras = {"role": "customer", "email": "anna@example.com", "email_verified": verified}
        token = customer_token(settings, extras={k: v for k, v in extras.items() if v is not None})
        r = await client.get("/mobile/v1/me/notifications", headers=_bearer(token))
        assert r.status_code == 200, r.text
        assert r.json()["email"] == ("anna@example.com" if used else None)


class TestIssueToken:
    def test_refuses_a_lifetime_the_api_would_refuse(self, settings: Settings) -> None:
        with pytest.raises(ValueError, match="JWT_MAX_LIFETIME_S"):
            issue_token(settings, "x", Role.CUSTOMER, timedelta(seconds=settings.jwt_max_lifetime_s + 1))

    @pytest.mark.parametrize("subject", ["", "c" * 129, "a\x00b", "a\u202eb"])
    def test_refuses_a_subject_the_api_would_refuse(self, settings: Settings, subject: str) -> None:
        with pytest.raises(ValueError, match="subject"):
            issue_token(settings, subject, Role.CUSTOMER, timedelta(hours=1))

    def test_carries_audience_and_issuer(self, settings: Settings) -> None:
        token = issue_token(settings, "someone", Role.ADMIN, timedelta(hours=1))
        claims = jwt.decode(
            token, settings.jwt_secret, algorithms=["HS256"], audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
        assert claims["sub"] == "someone" and claims["exp"] - claims["iat"] <= 3600


@pytest.fixture(scope="module")
def app_routes() -> Iterator[list[str]]:
    """Every HTTP route of the app with its path parameters filled in."""
    app: Litestar = create_app()
    values = {"int": "1", "uuid": str(uuid.uuid4())}
    fill = re.compile(r"\{\w+:(\w+)\}")
    yield [fill.sub(lambda m: values.get(m.group(1), "x"), r.path) for r in app.routes if isinstance(r, HTTPRoute)]
    app.state.ctx.cpu.shutdown()


class TestOptionsAndHead:
    """OPTIONS used to be a 500 on every guarded route: Litestar's JWT middleware skips OPTIONS and HEAD
    by default, and the role guard then found no user."""

    @pytest.mark.parametrize("method", ["OPTIONS", "HEAD"])
    @pytest.mark.parametrize("who", [None, *Role])
    async def test_every_route_answers_without_a_server_error(
        self, client: httpx.AsyncClient, make: Factory, app_routes: list[str], method: str, who: Role | None
    ) -> None:
        headers = make.party(who).headers if who else {}
        for path in app_routes:
            r = await client.request(method, path, headers={**headers, "Origin": "https://elsewhere.example"})
            assert r.status_code < 500, (method, path, r.status_code, r.text)
            if r.status_code >= 400 and method == "OPTIONS":
                if path.startswith(("/portal/", "/console/")):  # a browser's pages: the problem as a page
                    assert 'data-code="' in r.text, (path, r.text)
                else:
                    assert r.headers["content-type"].startswith("application/problem+json"), (path, r.text)

    async def test_options_without_a_token_is_401_on_a_guarded_route(self, client: httpx.AsyncClient) -> None:
        _assert_401(await client.options("/mobile/v1/installs"))
        _assert_401(await client.options("/review/v1/queue"))

    async def test_options_with_a_token_lists_the_methods(self, client: httpx.AsyncClient, make: Factory) -> None:
        r = await client.options("/mobile/v1/installs", headers=make.party(Role.CUSTOMER).headers)
        assert r.status_code == 204 and "POST" in r.headers["allow"]

    async def test_a_cors_preflight_needs_no_token(self, settings: Settings) -> None:
        """Browsers send no credentials on a preflight: CORS answers it before authentication."""
        app = create_app(dataclasses.replace(settings, cors_origins=("https://app.example",)))
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            r = await c.options("/mobile/v1/installs", headers=preflight)
        app.state.ctx.cpu.shutdown()
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "https://app.example"

    async def test_public_routes_answer_options_to_anyone(self, client: httpx.AsyncClient) -> None:
        assert (await client.options("/health")).status_code == 204
        assert (await client.options("/console/login")).status_code == 204


class TestPublicPrefixesAreAnchored:
    """Litestar searches the exclude patterns anywhere in the path: `/health` used to skip
    authentication on any path containing it."""

    @pytest.mark.parametrize("path", ["/integrations/v1/device-reports/health", "/admin/v1/assets/metrics/label"])
    async def test_a_public_word_inside_a_path_still_needs_a_token(self, client: httpx.AsyncClient, path: str) -> None:
        _assert_401(await client.get(path))


class TestVerifiedTokens:
    """A verified token is remembered until its exp (backend/auth.py TokenVerifier); nothing it
    skips may change meanwhile: the clock and the key are checked on every request."""

    @staticmethod
    def _verifier(settings: Settings, kept: int = 16) -> TokenVerifier:
        return TokenVerifier(settings, identity_provider(settings), kept=kept)

    async def test_a_remembered_token_is_refused_once_it_expires(self, settings: Settings) -> None:
        verifier = self._verifier(settings)
        exp = int(time.time()) + 2
        token = customer_token(settings, iat=exp - 60, exp=exp)
        first = await verifier.verify(token)
        assert await verifier.verify(token) is first  # remembered, not decoded again
        await asyncio.sleep(exp - time.time() + 0.05)
        with pytest.raises(NotAuthorizedException):
            await verifier.verify(token)
        with pytest.raises(NotAuthorizedException):  # and it stays refused
            await verifier.verify(token)

    async def test_an_expired_token_is_refused_by_the_app_after_being_accepted(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        exp = int(time.time()) + 2
        token = customer_token(settings, iat=exp - 60, exp=exp)
        assert (await client.get(LIST, headers=_bearer(token))).status_code == 200
        assert (await client.get(LIST, headers=_bearer(token))).status_code == 200
        await asyncio.sleep(exp - time.time() + 0.05)
        _assert_401(await client.get(LIST, headers=_bearer(token)))

    async def test_remembered_for_one_audience_is_not_accepted_for_another(self, settings: Settings) -> None:
        verifier = self._verifier(settings)
        token = customer_token(settings)
        await verifier.verify(token)
        with pytest.raises(NotAuthorizedException):
            await verifier.verify(token, audience="the-console-client")

    async def test_a_token_signed_with_another_secret_is_refused_even_after_its_twin(self, settings: Settings) -> None:
        verifier = self._verifier(settings)
        good = customer_token(settings, sub="customer-twin")
        forged = jwt.encode(jwt.decode(good, options={"verify_signature": False}), "another-secret-" + "x" * 32)
        await verifier.verify(good)
        with pytest.raises(NotAuthorizedException):
            await verifier.verify(forged)

    async def test_bounded_the_oldest_goes_first(self, settings: Settings) -> None:
        verifier = self._verifier(settings, kept=3)
        tokens = [customer_token(settings) for _ in range(5)]
        seen = [await verifier.verify(t) for t in tokens]
        assert await verifier.verify(tokens[-1]) is seen[-1]  # the newest are still remembered
        assert await verifier.verify(tokens[0]) is not seen[0]  # the oldest was let go: verified again
