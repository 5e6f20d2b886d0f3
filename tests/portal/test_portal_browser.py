"""The customers' portal in Debian's Chromium on a phone (360x800, touch): the demo sign-in, the home
page showing an install in review with the expected decision time, the install's page, asking for a
person; axe-core finds no serious or critical WCAG violation on any of the pages. Under
`make screenshots` it writes docs/screenshots/portal-login.png, portal-home.png, portal-install.png,
portal-help-sent.png and portal-visit.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, claimed, fraud_escalated, helped
from tests.mobile_api.helpers import Draft, new_install, ready_install

CUSTOMER = "cust-chris"  # a demo customer: the demo sign-in offers only those
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


async def _accessible(page: Page, axe_source: str) -> None:
    """axe-core's WCAG 2.2 AA rules on the page as it stands: no serious or critical violation. It is
    evaluated through the DevTools protocol, so the page's CSP (scripts from this origin only) stays on."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source)
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    assert result["passes"], "axe checked nothing"
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"


async def _offered_visit(live_server: str, make: Factory) -> Draft:
    """An install of the demo customer's that asked for a person, with a visit offered by a specialist."""
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
        d = await new_install(api, make, who=make.party(Role.CUSTOMER, CUSTOMER))
        await helped(api, d)
        case_id, spec = await case_id_of(d.id), make.party(Role.SPECIALIST)
        await claimed(api, spec, case_id)
        r = await api.post(f"/review/v1/cases/{case_id}/visit", json={}, headers=spec.headers)  # the planning rule's
        assert r.status_code == 201, r.text
    return d


class TestPortalOnAPhone:
    async def test_sign_in_see_the_review_and_ask_for_a_person(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path, axe_source: str
    ) -> None:
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
            d = await ready_install(api, make, who=make.party(Role.CUSTOMER, CUSTOMER))
            await fraud_escalated(api, make, d)

        context = await browser.new_context(
            viewport={"width": 360, "height": 800}, has_touch=True, is_mobile=True, locale="nl-NL"
        )
        page = await context.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        sizes: dict[str, int] = {}

        async def kept(response: Any) -> None:
            if response.request.resource_type == "document" and response.status == 200:
                sizes[response.url] = len(await response.body())

        page.on("response", kept)

        await page.goto(f"{live_server}/portal/")
        await expect(page.locator("h1")).to_have_text("Aanmelden")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-login.png"), full_page=True)

        await page.locator(f"#demo-{CUSTOMER}").tap()
        await expect(page.locator("h1")).to_have_text("Wat speelt er voor mij")
        card = page.locator(f"#install-{d.id}")
        await expect(card.locator(".state")).to_have_text("Een specialist bekijkt uw installatie.")
        await expect(card.locator(".expected")).to_contain_text("Verwacht besluit:")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-home.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone

        await card.get_by_role("link", name="Deze installatie openen").tap()
        await expect(page.locator("h2#now")).to_have_text("Hoe het ervoor staat")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-install.png"), full_page=True)

        await page.get_by_label("Uw bericht (niet verplicht)").fill("Ik weet niet of de foto's goed zijn.")
        await page.locator("#help button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text(
            "Uw bericht is verstuurd. Een medewerker neemt contact met u op."
        )
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-help-sent.png"), full_page=True)

        await page.get_by_role("link", name="English").tap()
        await expect(page.locator("h2#now")).to_have_text("Where it stands")

        # A visit offered on another install: the radio buttons pass the same checks, and a tap plans it.
        visit = await _offered_visit(live_server, make)
        await page.goto(f"{live_server}/portal/installs/{visit.id}")
        await expect(page.locator("h2#visit-title")).to_have_text("Visit by an installer")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-visit.png"), full_page=True)
        await page.locator("label[for=window-2]").tap()
        await page.locator("#visit button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text("The visit is planned in the window you picked.")
        await context.close()

        async with httpx.AsyncClient(base_url=live_server) as api:
            view = (await api.get(d.url, headers=d.who.headers)).json()
        assert view["state"] == "in_review" and "human_requested" in view["reasons"]
        assert not blocked, blocked
        assert sizes and all(size < 100_000 for size in sizes.values()), sizes
