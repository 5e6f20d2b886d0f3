"""The specialist console in a real browser: sign in, queue, case, claim, decide; refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, set_case
from tests.mobile_api.helpers import Draft, ask_help, ready_install, submit, upload


async def _escalated(client: httpx.AsyncClient, make: Factory, *, wrong_label: bool = False) -> tuple[Draft, int]:
    """An install in review; returns it with its case id."""
    if wrong_label:
        _, other = await make.asset()
        d = await ready_install(client, make, skip=("meter_label",))
        r = await upload(client, d, "meter_label", make.photo("meter_label", payload=other))
        assert r.status_code == 201, r.text
        assert (await submit(client, d)).json()["state"] == "in_review"
    else:
        d = await ready_install(client, make)
        assert (await ask_help(client, d)).json()["state"] == "in_review"
    case_id = await case_id_of(d.id)
    # First in the queue, however many cases other tests left open: the browser looks for it on page 1.
    await set_case(case_id, due_at=datetime(2001, 1, 1, tzinfo=UTC))
    return d, case_id


async def _signed_in(browser: Browser, live_server: str, make: Factory, subject: str | None = None) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    token = make.party(Role.SPECIALIST, subject).headers["Authorization"].removeprefix("Bearer ")
    await page.goto(f"{live_server}/console/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/queue")
    return page


class TestSignIn:
    async def test_customer_token_is_refused(self, browser: Browser, live_server: str, make: Factory) -> None:
        page = await browser.new_page()
        await page.goto(f"{live_server}/console/login")
        await page.fill("#token", make.party(Role.CUSTOMER).headers["Authorization"].removeprefix("Bearer "))
        await page.click("button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("alleen voor specialisten")
        assert "/console/login" in page.url
        cookies = await page.context.cookies()
        assert not [c for c in cookies if c["name"] == "si_console"]
        await page.close()

    async def test_session_cookie_is_secure_httponly_strict(
        self, browser: Browser, live_server: str, make: Factory
    ) -> None:
        page = await _signed_in(browser, live_server, make)
        cookie = next(c for c in await page.context.cookies() if c["name"] == "si_console")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        await page.close()

    async def test_pages_need_a_sign_in(self, browser: Browser, live_server: str) -> None:
        page = await browser.new_page()
        await page.goto(f"{live_server}/console/queue")
        assert page.url.endswith("/console/login")
        await page.close()


class TestQueueAndCase:
    async def test_queue_case_claim_and_request_info(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory, screenshots: Path
    ) -> None:
        d, case_id = await _escalated(client, make, wrong_label=True)
        await _escalated(client, make)  # a second reason in the queue (and in its screenshot)
        page = await _signed_in(browser, live_server, make)
        row = page.locator(f"a[href='/console/cases/{case_id}']")
        await expect(row).to_be_visible()
        await expect(page.locator("tr", has=row).locator(".badge.suspected_fraud")).to_be_visible()
        await page.screenshot(path=str(screenshots / "queue.png"), full_page=True)
        await row.click()
        await page.wait_for_load_state("networkidle")
        images = page.locator(".photo img")
        assert await images.count() == 3
        for i in range(3):  # every photo really loaded
            assert await images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        await expect(page.locator("svg.map .territory")).to_have_count(1)
        await expect(page.locator("svg.map .pt.fix")).to_have_count(2)
        await page.click("text=Claimen")
        await expect(page.locator(".flash")).to_contain_text("geclaimd")
        await expect(page.locator(".lease")).to_contain_text(":")
        await page.screenshot(path=str(screenshots / "case.png"), full_page=True)
        await page.keyboard.press("i")  # the request-information shortcut
        await page.select_option("select[name=reason_code]", "label_not_visible")
        await page.fill("textarea[name=note]", "internal-console-note")
        await page.fill("textarea[name=message_to_customer]", "Maak een foto van het juiste label.")
        await page.click("form.decide button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("vastgelegd")
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["state"] == "needs_retake"
        assert view["customer_message"] == "Maak een foto van het juiste label."
        assert "internal-console-note" not in str(view)
        await page.close()

    async def test_request_info_thread(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory, screenshots: Path
    ) -> None:
        d, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        await page.goto(f"{live_server}/console/cases/{case_id}")
        await page.click("text=Claimen")
        await expect(page.locator("form.decide")).to_be_visible()
        await page.keyboard.press("i")
        await page.select_option("select[name=reason_code]", "more_information")
        await page.fill("textarea[name=note]", "internal-thread-note")
        await page.fill("input[name=extra_photo]", "een foto van de aardlekschakelaar")
        await page.fill("textarea[name=question]", "Wanneer is de meter geplaatst?")
        await page.click("form.decide button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("vastgelegd")
        await expect(page.locator(".thread")).to_contain_text("Wanneer is de meter geplaatst?")
        await expect(page.locator(".thread .answer")).to_contain_text("nog niet gegeven")

        # The customer answers and uploads the extra photo: the case is back, the thread shows both.
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert "internal-thread-note" not in str(view)
        [slot] = [a["subject"] for a in view["next_actions"] if a["code"] == "upload_extra_photo"]
        r = await client.post(f"{d.url}/messages", json={"text": "Op 12 mei."}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        assert (await upload(client, d, slot, make.photo("cabinet_overview"))).status_code == 201
        await page.reload()
        await expect(page.locator(".thread .answer")).to_contain_text("Op 12 mei.")
        await expect(page.locator(".thread a")).to_have_count(1)  # the extra photo, linked
        await expect(page.locator(".photo h2", has_text="Extra foto: een foto van de aardlekschakelaar")).to_have_count(
            1
        )
        await expect(page.locator("text=Claimen")).to_be_visible()  # open again: claimable
        await page.locator(".thread").screenshot(path=str(screenshots / "case-thread.png"))
        await page.close()

    async def test_approve_another_case(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        await page.goto(f"{live_server}/console/cases/{case_id}")
        await page.click("text=Claimen")
        await expect(page.locator("form.decide")).to_be_visible()  # the claimed page has loaded
        await page.keyboard.press("a")
        await page.select_option("select[name=reason_code]", "verified_with_customer")
        chosen = page.locator("select[name=reason_code] option:checked")
        await expect(chosen).to_have_text("Na contact met u is alles bevestigd.")  # review.toml's words, not the code
        await page.keyboard.press("Control+Enter")
        await expect(page.locator(".flash")).to_contain_text("vastgelegd")
        assert (await client.get(d.url, headers=d.who.headers)).json()["state"] == "approved"
        await page.goto(f"{live_server}/console/cases/{case_id}")
        decisions = page.locator("details.card table").last
        await expect(decisions).to_contain_text("Na contact met u is alles bevestigd.")
        await expect(decisions).not_to_contain_text("verified_with_customer")
        await page.close()

    async def test_stale_page_says_so_and_overwrites_nothing(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make, subject="spec-stale")
        await page.goto(f"{live_server}/console/cases/{case_id}")
        await page.click("text=Claimen")
        await expect(page.locator(".lease")).to_be_visible()
        # Meanwhile the case changes (the same specialist renews the lease from another tab: a new version).
        same = make.party(Role.SPECIALIST, "spec-stale")
        assert (await client.post(f"/review/v1/cases/{case_id}/claim", headers=same.headers)).status_code == 200
        await page.keyboard.press("r")
        await page.select_option("select[name=reason_code]", "wrong_asset")
        await page.click("form.decide button[type=submit]")
        await expect(page.locator(".flash.error")).to_contain_text("intussen gewijzigd")
        assert (await client.get(d.url, headers=d.who.headers)).json()["state"] == "in_review"
        await page.close()


class TestCsrf:
    async def test_post_without_csrf_token_is_refused(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        _, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        session = next(c["value"] for c in await page.context.cookies() if c["name"] == "si_console")
        await page.close()
        async with httpx.AsyncClient(base_url=live_server, headers={"Cookie": f"si_console={session}"}) as raw:
            assert (await raw.get("/console/queue")).status_code == 200  # the session itself is good
            r = await raw.post(f"/console/cases/{case_id}/claim")
        assert r.status_code == 403
        spec = make.party(Role.SPECIALIST)
        case = (await client.get(f"/review/v1/cases/{case_id}", headers=spec.headers)).json()
        assert case["claimed_by"] is None


class TestLayout:
    async def test_case_page_fits_a_tablet_without_sideways_scrolling(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        _, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        for width, height in ((1280, 800), (768, 1024)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.goto(f"{live_server}/console/cases/{case_id}")
            await expect(page.locator("svg.map")).to_be_visible()
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (width, overflow)
        await page.close()
