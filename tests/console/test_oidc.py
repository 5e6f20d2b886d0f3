"""The console signs in through a real (local) OpenID Connect provider: authorization code with PKCE,
state and nonce, the ID token checked like a bearer token; pasting a token is development only.
The last class drives the whole sign-in in Chromium against a live server."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from backend.app import create_app
from backend.console import oidc
from backend.i18n import translate
from backend.principal import Role
from backend.settings import Settings, load_settings
from tests.factories import Factory
from tests.helpers.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
from tests.helpers.server import free_port, serving
from tests.test_settings import PRODUCTION_ENV

ORIGIN = "https://testserver"
KEYCLOAK_SPECIALIST = {"realm_access": {"roles": ["offline_access", "specialist"]}}


def _provider_env(provider_url: str) -> dict[str, str]:
    """The console as a confidential client of the provider, roles where Keycloak puts them."""
    return {
        "OIDC_ISSUER": provider_url,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "ROLE_CLAIM": "realm_access.roles",
        "JWKS_COOLDOWN_S": "0",
    }


@asynccontextmanager
async def _console(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over https (the cookies are Secure). Needs the `client` fixture (the pool)."""
    app = create_app(load_settings({**os.environ, **env}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
            yield c
    finally:
        app.state.ctx.cpu.shutdown()


def _user(provider: LocalProvider, claims: dict[str, object]) -> str:
    sub = f"spec-{uuid.uuid4().hex[:8]}"
    provider.set_user(sub, claims)
    return sub


async def _start(console: httpx.AsyncClient) -> str:
    """Press the sign-in button; returns the provider's authorization URL."""
    r = await console.get("/console/oidc/start")
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _authorize(authorization_url: str, sub: str) -> str:
    """At the provider's page the user picks their account; returns where it sends the browser back."""
    r = httpx.post(authorization_url, data={"sub": sub})
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def _back(console: httpx.AsyncClient, callback_url: str) -> httpx.Response:
    assert callback_url.startswith(ORIGIN + oidc.CALLBACK_PATH), callback_url
    return await console.get(callback_url.removeprefix(ORIGIN))


def _set_cookies(r: httpx.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line."""
    return {line.split("=", 1)[0]: line for line in r.headers.get_list("set-cookie")}


class TestProviderSignIn:
    async def test_a_specialist_signs_in_and_reaches_the_queue(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        sub = _user(oidc_provider, KEYCLOAK_SPECIALIST)
        async with _console(_provider_env(oidc_provider.url)) as console:
            r = await _back(console, _authorize(await _start(console), sub))
            assert r.status_code == 200, r.text
            assert 'http-equiv="refresh" content="0; url=/console/queue"' in r.text
            cookies = _set_cookies(r)
            session = cookies["si_console"].lower()
            assert "httponly" in session and "secure" in session and "samesite=strict" in session
            assert "max-age=0" in cookies[oidc.ATTEMPT_COOKIE].lower()  # the attempt is spent
            queue = await console.get("/console/queue")
        assert queue.status_code == 200 and sub in queue.text

    async def test_an_admin_signs_in_and_reaches_dispatch_not_the_queue(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        sub = _user(oidc_provider, {"realm_access": {"roles": ["admin"]}})
        async with _console(_provider_env(oidc_provider.url)) as console:
            r = await _back(console, _authorize(await _start(console), sub))
            assert r.status_code == 200, r.text
            assert 'http-equiv="refresh" content="0; url=/console/jobs"' in r.text
            jobs, queue = await console.get("/console/jobs"), await console.get("/console/queue")
        assert jobs.status_code == 200 and sub in jobs.text
        assert queue.status_code == 403 and "alleen voor specialisten" in queue.text

    async def test_pkce_state_and_nonce_travel_with_the_code(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        sub = _user(oidc_provider, KEYCLOAK_SPECIALIST)
        async with _console(_provider_env(oidc_provider.url)) as console:
            authorization_url = await _start(console)
            asked = parse_qs(urlsplit(authorization_url).query)
            assert (await _back(console, _authorize(authorization_url, sub))).status_code == 200
        exchange = oidc_provider.served("/oauth2/token")[-1].form
        verifier = exchange["code_verifier"][0]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"] == [challenge]
        assert 43 <= len(verifier) <= 128  # RFC 7636
        assert asked["nonce"][0] and asked["state"][0] and asked["nonce"] != asked["state"]
        assert exchange["redirect_uri"] == asked["redirect_uri"] == [ORIGIN + oidc.CALLBACK_PATH]
        assert exchange["grant_type"] == ["authorization_code"]

    async def test_a_customer_is_refused(self, client: httpx.AsyncClient, oidc_provider: LocalProvider) -> None:
        sub = _user(oidc_provider, {"realm_access": {"roles": ["customer"]}})
        async with _console(_provider_env(oidc_provider.url)) as console:
            r = await _back(console, _authorize(await _start(console), sub))
        assert r.status_code == 403 and translate("nl", oidc.STAFF_ONLY) in r.text
        assert "si_console" not in _set_cookies(r)

    async def test_a_cancelled_sign_in(self, client: httpx.AsyncClient, oidc_provider: LocalProvider) -> None:
        async with _console(_provider_env(oidc_provider.url)) as console:
            denied = httpx.post(await _start(console), data={"action": "deny"})
            r = await _back(console, denied.headers["location"])
        assert r.status_code == 401 and translate("nl", oidc.REFUSED_BY_PROVIDER) in r.text

    async def test_a_callback_not_begun_in_this_browser_is_refused(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        """Someone else's code and state, or ours with the cookie gone or altered: no session."""
        sub = _user(oidc_provider, KEYCLOAK_SPECIALIST)
        env = _provider_env(oidc_provider.url)
        async with _console(env) as attacker, _console(env) as victim:
            callback = _authorize(await _start(attacker), sub)
            r = await _back(victim, callback)  # the victim's browser never started a sign-in
            assert r.status_code == 400 and translate("nl", oidc.RETRY) in r.text
            await _start(victim)  # it has an attempt now, with another state
            r = await _back(victim, callback)
            assert r.status_code == 400 and "si_console" not in _set_cookies(r)

            own = _authorize(await _start(victim), sub)
            header, payload, _ = victim.cookies[oidc.ATTEMPT_COOKIE].split(".")
            altered = {"Cookie": f"{oidc.ATTEMPT_COOKIE}={header}.{payload}.{'A' * 43}"}  # not our signature
            r = await victim.get(own.removeprefix(ORIGIN), headers=altered)
            assert r.status_code == 400 and "si_console" not in _set_cookies(r)

    async def test_an_id_token_of_another_attempt_fails_its_nonce(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        """A code issued for one attempt, brought back with another attempt's state and cookie."""
        sub = _user(oidc_provider, KEYCLOAK_SPECIALIST)
        async with _console(_provider_env(oidc_provider.url)) as console:
            first = _authorize(await _start(console), sub)
            second = parse_qs(urlsplit(await _start(console)).query)["state"][0]
            code = parse_qs(urlsplit(first).query)["code"][0]
            r = await console.get(oidc.CALLBACK_PATH, params={"code": code, "state": second})
        assert r.status_code == 401 and "si_console" not in _set_cookies(r)

    @pytest.mark.parametrize("state", ["é", "\u202e", "x" * 5000])
    async def test_a_hostile_state_is_refused_without_a_server_error(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider, state: str
    ) -> None:
        async with _console(_provider_env(oidc_provider.url)) as console:
            await _start(console)
            r = await console.get(oidc.CALLBACK_PATH, params={"code": "c", "state": state})
        assert r.status_code == 400 and translate("nl", oidc.RETRY) in r.text

    async def test_a_made_up_code_is_refused(self, client: httpx.AsyncClient, oidc_provider: LocalProvider) -> None:
        async with _console(_provider_env(oidc_provider.url)) as console:
            state = parse_qs(urlsplit(await _start(console)).query)["state"][0]
            r = await console.get(oidc.CALLBACK_PATH, params={"code": "made-up", "state": state})
        assert r.status_code == 401 and translate("nl", oidc.REFUSED_BY_PROVIDER) in r.text

    async def test_an_unreachable_provider_says_so(self, client: httpx.AsyncClient) -> None:
        async with _console(_provider_env(f"http://127.0.0.1:{free_port()}")) as console:
            r = await console.get("/console/oidc/start")
        assert r.status_code == 503 and translate("nl", oidc.UNREACHABLE) in r.text


class TestAttemptCookie:
    def test_it_expires_after_ten_minutes(self, settings: Settings) -> None:
        attempt = oidc.SignInAttempt("state", "nonce", "verifier")
        now = datetime.now(UTC)
        sealed = oidc.seal(settings, attempt, now)
        assert oidc.unseal(settings, sealed, now + timedelta(minutes=9)) == attempt
        assert oidc.unseal(settings, sealed, now + timedelta(minutes=10)) is None

    def test_it_is_signed_with_a_key_of_its_own(self, settings: Settings) -> None:
        """Not the CSRF secret itself, and not the JWT secret (public when it is a provider's key)."""
        attempt = oidc.SignInAttempt("state", "nonce", "verifier")
        now = datetime.now(UTC)
        claims = {"state": "state", "nonce": "nonce", "verifier": "verifier", "exp": now + timedelta(minutes=5)}
        for key in (settings.csrf_secret, settings.jwt_secret):
            assert oidc.unseal(settings, jwt.encode(claims, key, algorithm="HS256"), now) is None
        assert oidc.unseal(settings, oidc.seal(settings, attempt, now), now) == attempt


class TestPastedTokens:
    async def _paste(self, console: httpx.AsyncClient, token: str) -> httpx.Response:
        await console.get("/console/login")  # the CSRF cookie, as a browser gets it
        form = {"_csrf_token": console.cookies["csrftoken"], "token": token}
        return await console.post("/console/login", data=form, follow_redirects=False)

    async def test_refused_once_a_provider_signs_in(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider, make: Factory
    ) -> None:
        async with _console(_provider_env(oidc_provider.url)) as console:
            page = await console.get("/console/login")
            assert 'id="provider-sign-in"' in page.text and "<textarea" not in page.text
            r = await self._paste(console, make.party(Role.SPECIALIST).headers["Authorization"].split()[1])
        assert r.status_code == 403 and "alleen in ontwikkeling" in r.text

    async def test_refused_in_production(self, client: httpx.AsyncClient, make: Factory) -> None:
        async with _console({"SELFINSTALL_ENV": "production", **PRODUCTION_ENV}) as console:
            page = await console.get("/console/login")
            assert "Er is geen aanmelding ingesteld" in page.text and "<textarea" not in page.text
            r = await self._paste(console, make.party(Role.SPECIALIST).headers["Authorization"].split()[1])
        assert r.status_code == 403

    async def test_accepted_in_development(self, client: httpx.AsyncClient, make: Factory) -> None:
        async with _console({}) as console:
            r = await self._paste(console, make.party(Role.SPECIALIST).headers["Authorization"].split()[1])
        assert r.status_code == 303 and r.headers["location"] == "/console/queue"


@pytest.fixture(scope="module")
async def provider_console(
    oidc_provider: LocalProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A live `selfinstall serve` signing its console in through the local provider."""
    log = tmp_path_factory.mktemp("oidc-console") / "server.log"
    async with serving(_provider_env(oidc_provider.url), log) as url:
        yield url


class TestInChromium:
    async def test_a_specialist_signs_in_through_the_provider(
        self, browser: Browser, provider_console: str, oidc_provider: LocalProvider, screenshots: Path
    ) -> None:
        sub = _user(oidc_provider, KEYCLOAK_SPECIALIST)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        violations: list[str] = []

        def collect(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                violations.append(message.text)

        page.on("console", collect)
        # No internet here: the provider's page links a stylesheet from a CDN, refused at once.
        await page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
        await page.goto(f"{provider_console}/console/queue")
        assert page.url.endswith("/console/login")
        await expect(page.locator("textarea#token")).to_have_count(0)  # no pasting here
        await page.screenshot(path=str(screenshots / "login-provider.png"))
        await page.click("#provider-sign-in")
        await page.wait_for_url(f"{oidc_provider.url}/oauth2/authorize*")  # the provider's own page
        await page.fill("input[name=sub]", sub)
        await page.click("button[type=submit]:has-text('Authorize')")
        await page.wait_for_url(f"{provider_console}/console/queue")
        await expect(page.locator("h1")).to_contain_text("Wachtrij")
        await expect(page.locator("header .who")).to_contain_text(sub)
        cookies = {c["name"]: c for c in await page.context.cookies()}
        session = cookies["si_console"]
        assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
        assert oidc.ATTEMPT_COOKIE not in cookies
        assert not violations, violations
        await page.click("text=Afmelden")
        await page.wait_for_url("**/console/login")
        await page.close()
