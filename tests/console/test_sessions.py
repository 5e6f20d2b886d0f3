"""Console sessions end on the server at sign-out; sign-in checks tokens like the API; every console
response carries the security headers and the pages run under the policy without a violation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from playwright.async_api import Browser, ConsoleMessage, expect

from backend.console.headers import SECURITY_HEADERS
from backend.principal import Role
from backend.settings import Settings
from tests.console.test_console import _escalated, _signed_in
from tests.factories import Factory

COOKIE = "si_console"


async def _session_of(page: Any) -> str:
    return next(c["value"] for c in await page.context.cookies() if c["name"] == COOKIE)


def _copy(live_server: str, session: str) -> httpx.AsyncClient:
    """Another client replaying the cookie, as someone who copied it would."""
    return httpx.AsyncClient(base_url=live_server, headers={"Cookie": f"{COOKIE}={session}"})


class TestSignOut:
    async def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
        self, browser: Browser, live_server: str, make: Factory
    ) -> None:
        page = await _signed_in(browser, live_server, make)
        session = await _session_of(page)
        async with _copy(live_server, session) as copy:
            assert (await copy.get("/console/queue")).status_code == 200  # the copy works while signed in
            await page.click("text=Afmelden")
            await page.wait_for_url("**/console/login")
            after = await copy.get("/console/queue")
        assert after.status_code == 303 and after.headers["location"] == "/console/login"
        assert not [c for c in await page.context.cookies() if c["name"] == COOKIE]
        await page.goto(f"{live_server}/console/queue")
        assert page.url.endswith("/console/login")
        await page.close()

    async def test_the_cookie_is_a_session_id_not_the_token(
        self, browser: Browser, live_server: str, make: Factory
    ) -> None:
        page = await _signed_in(browser, live_server, make)
        session = await _session_of(page)
        await page.close()
        token = make.party(Role.SPECIALIST).headers["Authorization"].removeprefix("Bearer ")
        assert "." not in session  # no JWT: the cookie names a row, it proves nothing by itself
        async with _copy(live_server, token) as forged:  # a token is not a session
            r = await forged.get("/console/queue")
        assert r.status_code == 303 and r.headers["location"] == "/console/login"


def _crafted(settings: Settings, **changes: Any) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": f"spec-{uuid.uuid4().hex[:8]}",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()) - 60,
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "extras": {"role": "specialist"},
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, settings.jwt_secret, algorithm="HS256")


class TestSignInChecksTheTokenLikeTheApi:
    @pytest.mark.parametrize(
        "changes",
        [
            {"aud": "another-service"},
            {"iss": None},
            {"exp": int(datetime.now(UTC).timestamp()) + 10 * 365 * 24 * 3600},
            {"sub": "s" * 129},
        ],
        ids=["wrong_audience", "no_issuer", "ten_years", "subject_129"],
    )
    async def test_refused_without_a_session(
        self, browser: Browser, live_server: str, settings: Settings, changes: dict[str, Any]
    ) -> None:
        page = await browser.new_page()
        await page.goto(f"{live_server}/console/login")
        await page.fill("#token", _crafted(settings, **changes))
        await page.click("button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("ongeldig of verlopen")
        assert not [c for c in await page.context.cookies() if c["name"] == COOKIE]
        await page.close()


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        "method, path, status",
        [
            ("GET", "/console/login", 200),
            ("GET", "/console/queue", 303),  # the redirect to sign in
            ("GET", "/console/static/console.css", 200),
            ("POST", "/console/logout", 403),  # no CSRF token
        ],
    )
    async def test_every_console_response_carries_them(
        self, client: httpx.AsyncClient, method: str, path: str, status: int
    ) -> None:
        r = await client.request(method, path)
        assert r.status_code == status, r.text
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value, name
        policy = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy

    async def test_the_csrf_token_is_signed_with_its_own_secret(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        """Not with JWT_SECRET, which is public when it is an identity provider's key."""
        assert settings.csrf_secret != settings.jwt_secret
        token = (await client.get("/console/login")).cookies["csrftoken"]
        secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        assert signature == generate_csrf_hash(secret, settings.csrf_secret)
        assert signature != generate_csrf_hash(secret, settings.jwt_secret)


class TestContentSecurityPolicy:
    async def test_the_case_page_and_its_script_run_without_a_violation(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        """A style attribute or inline script left in a template would be refused and logged here."""
        _, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        messages: list[str] = []

        def collect(message: ConsoleMessage) -> None:
            messages.append(message.text)

        page.on("console", collect)
        for path in ("/console/login", "/console/queue", f"/console/cases/{case_id}"):
            await page.goto(f"{live_server}{path}")
        await page.click("text=Claimen")
        await expect(page.locator("form.decide")).to_be_visible()
        await page.keyboard.press("a")  # console.js fills the reason codes of the chosen outcome
        await expect(page.locator("select[name=reason_code] option").first).to_be_attached()
        await expect(page.locator(".lease")).to_contain_text(":")  # and runs the lease countdown
        assert not [m for m in messages if "Content Security Policy" in m], messages
        await page.close()
