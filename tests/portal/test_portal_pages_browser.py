"""The portal's remaining pages in Debian's Chromium on a phone (360x800, touch), each with the checks of
tests/portal/phone.py (axe-core 0 serious or critical, 360 px, deferred scripts, under 100 kB) and its
screenshot under `make screenshots`: a new customer's empty home and the claim (refused in words, then
linked), a refused demo sign-in, a rejected install's objection, an unknown page and another's install
(the 404 page), and the identity provider's pages (a failed sign-in, the signed-in step) as the app
serves them with a provider configured, shown at the live server's address."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import Browser, Route, expect

from backend.console import sessions
from backend.portal.access import COOKIE
from backend.principal import Principal, Role
from tests.console.test_oidc import ORIGIN, _authorize, _console, _provider_env, _user
from tests.factories import Factory
from tests.helpers.oidc_provider import LocalProvider
from tests.helpers.review import case_id_of, decided, helped
from tests.mobile_api.helpers import ready_install
from tests.portal.phone import Phone, phone
from tests.portal.test_portal_oidc import CUSTOMER as CUSTOMER_CLAIMS

DEMO = "cust-chris"  # a demo customer: the demo sign-in offers only those


async def _signed_in_as(it: Phone, live_server: str, subject: str) -> None:
    """A portal session for `subject`, opened as a sign-in opens one, in the phone's cookie jar."""
    now = datetime.now(UTC)
    value = await sessions.open_session(Principal(subject=subject, role=Role.CUSTOMER), now, now + timedelta(hours=1))
    await it.context.add_cookies([{"name": COOKIE, "value": value, "url": f"{live_server}/portal/"}])


class TestEveryOtherPage:
    async def test_claim_sign_in_objection_and_not_found(
        self,
        browser: Browser,
        live_server: str,
        client: httpx.AsyncClient,
        make: Factory,
        screenshots: Path,
        axe_source: str,
    ) -> None:
        ean = await make.connection(postcode="6811AL", house_number=14)
        it = await phone(browser, axe_source, screenshots)
        page = it.page

        # A demo sign-in of someone who is not a demo customer (a tampered button): refused in words.
        await page.goto(f"{live_server}/portal/login")
        await page.locator(f"#demo-{DEMO}").evaluate("b => b.value = 'cust-mallory'")
        await page.locator(f"#demo-{DEMO}").tap()
        await expect(page.locator(".flash.error")).to_have_text("Kies een van de demoklanten.")
        await it.check("login-refused")

        # A new customer: nothing linked yet, the claim form; a wrong house number is refused in words.
        await _signed_in_as(it, live_server, f"cust-{uuid.uuid4().hex[:12]}")
        await page.goto(f"{live_server}/portal/")
        await expect(page.locator("h1")).to_have_text("Wat speelt er voor mij")
        await expect(page.locator("main > p").first).to_contain_text("Er is nog geen aansluiting")
        await it.check("home-empty")
        await page.get_by_label("EAN (18 cijfers)").fill(ean)
        await page.get_by_label("Postcode").fill("6811 AL")
        await page.get_by_label("Huisnummer").fill("15")
        await page.locator("#claim button[type=submit]").tap()
        await expect(page.locator(".flash.error")).to_contain_text(
            "De gegevens komen niet overeen met een aansluiting."
        )
        await expect(page.get_by_label("Huisnummer")).to_have_value("15")  # as typed, to correct
        await it.check("claim-refused")
        await page.get_by_label("Huisnummer").fill("14")
        await page.locator("#claim button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text("De aansluiting is aan uw account gekoppeld.")
        await expect(page.locator(f"#conn-{ean}")).to_be_visible()
        await it.check("claimed")

        # A rejected install of the demo customer's: the objection form, then its outcome.
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
            d = await ready_install(api, make, who=make.party(Role.CUSTOMER, DEMO))
            await helped(api, d)
            await decided(api, make.party(Role.SPECIALIST), await case_id_of(d.id), "reject", "not_eligible")
        await it.context.clear_cookies()
        await page.goto(f"{live_server}/portal/login")
        await page.locator(f"#demo-{DEMO}").tap()
        await expect(page.locator("h1")).to_have_text("Wat speelt er voor mij")
        await page.goto(f"{live_server}/portal/installs/{d.id}")
        await expect(page.locator(".state")).to_have_text("Afgekeurd door een specialist.")
        await it.check("objection")
        await page.get_by_label("Waarom bent u het er niet mee eens?").fill("De meter past wel: 1x35A.")
        await page.locator("#object button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text(
            "Uw bezwaar is verstuurd. Een specialist bekijkt uw installatie opnieuw."
        )
        await it.check("objection-sent")

        # Someone else's install, or none, and a page that does not exist: the 404 page in words.
        await page.goto(f"{live_server}/portal/installs/{uuid.uuid4()}")
        await expect(page.locator("h1")).to_have_text("Installatie niet gevonden")
        await it.check("not-found")
        await page.goto(f"{live_server}/portal/bestaat-niet")
        await expect(page.locator("[data-code]")).to_have_attribute("data-code", "request/not-found")
        await it.check()
        await it.close()

    async def test_the_identity_providers_pages(
        self,
        browser: Browser,
        live_server: str,
        client: httpx.AsyncClient,
        oidc_provider: LocalProvider,
        screenshots: Path,
        axe_source: str,
    ) -> None:
        """Served by an app with the provider configured (the live server has none), then shown by the phone
        at the live server's address, so they load its stylesheet and script as they would."""
        async with _console(_provider_env(oidc_provider.url)) as portal:
            login = await portal.get("/portal/login", headers={"Accept-Language": "nl"})
            expired = await portal.get("/portal/oidc/callback?code=x&state=y", headers={"Accept-Language": "nl"})
            started = await portal.get("/portal/oidc/start")
            back = _authorize(started.headers["location"], _user(oidc_provider, CUSTOMER_CLAIMS))
            signed_in = await portal.get(back.removeprefix(ORIGIN), headers={"Accept-Language": "nl"})
        assert (login.status_code, expired.status_code, signed_in.status_code) == (200, 400, 200)
        it = await phone(browser, axe_source, screenshots)
        page = it.page
        served = [login, expired, signed_in]  # in the order the phone asks for them below

        async def serve(route: Route) -> None:
            r = served.pop(0)
            await route.fulfill(status=r.status_code, body=r.content, content_type=r.headers["content-type"])

        await page.route(f"{live_server}/portal/login", serve)
        await page.route(f"{live_server}/portal/oidc/callback", serve)
        # The signed-in step moves on to home at once: a 204 keeps the phone on it (a browser stays on a page
        # when a navigation answers 204) for its checks.
        await page.route(f"{live_server}/portal/", lambda route: route.fulfill(status=204))
        await page.goto(f"{live_server}/portal/login")
        await expect(page.locator("#provider-sign-in")).to_have_text("Aanmelden met uw account")
        await expect(page.locator("#demo-cust-anna")).to_have_count(0)  # no demo beside a provider
        await it.check("login-provider")
        await page.goto(f"{live_server}/portal/oidc/callback")
        await expect(page.locator(".flash.error")).to_contain_text("Deze aanmelding is verlopen")
        await it.check("login-expired")
        await page.goto(f"{live_server}/portal/oidc/callback", wait_until="domcontentloaded")
        await expect(page.locator("h1")).to_have_text("Aangemeld")
        await it.check("signed-in")
        await it.close()
