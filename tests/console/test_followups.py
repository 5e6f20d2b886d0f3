"""Follow-up cases in the console: the queue names the kind, the case page offers a verdict (not a decision)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from backend.principal import Role
from tests.console.test_console import _escalated, _signed_in
from tests.factories import Factory
from tests.helpers.review import get_case, install_of, set_case
from tests.quality.helpers import auto_approved, id_with_point, sample_case

SHIPPED_SHARE = 0.02  # the live server and the test app both run the shipped policy


class TestQaSampleInTheConsole:
    async def test_kind_in_queue_and_verdict_form(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory, screenshots: Path
    ) -> None:
        d = await auto_approved(client, make, id_with_point(below=SHIPPED_SHARE))
        case_id = await sample_case(d.id)
        await set_case(case_id, due_at=datetime.now(UTC) - timedelta(days=30))  # first in the queue
        page = await _signed_in(browser, live_server, make)
        await page.goto(f"{live_server}/console/queue?kind=qa_sample")
        row = page.locator("tr", has=page.locator(f"a[href='/console/cases/{case_id}']"))
        await expect(row.locator(".kind.qa_sample")).to_contain_text("steekproef")
        await row.locator("a").click()
        await expect(page.locator(".followup")).to_contain_text("steekproef")
        await page.click("text=Claimen")
        await expect(page.locator("form.verdict")).to_be_visible()
        assert await page.locator("form.decide").count() == 0  # a follow-up takes no decision
        await page.screenshot(path=str(screenshots / "qa-sample.png"), full_page=True)
        await page.check("form.verdict input[value=disagree]")
        await page.fill("form.verdict textarea[name=note]", "meter on the photo is not this serial")
        await page.click("form.verdict button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("oordeel is vastgelegd")
        await expect(page.locator(".followup")).to_contain_text("Oneens met de automaat")
        case = await get_case(client, make.party(Role.SPECIALIST), case_id)
        assert case["state"] == "closed" and case["verdicts"][0]["verdict"] == "disagree"
        assert (await install_of(client, d))["state"] == "approved"
        await page.close()

    async def test_escalations_still_show_the_decision_form(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory
    ) -> None:
        _, case_id = await _escalated(client, make)
        page = await _signed_in(browser, live_server, make)
        await page.goto(f"{live_server}/console/cases/{case_id}")
        await page.click("text=Claimen")
        await expect(page.locator("form.decide")).to_be_visible()
        assert await page.locator("form.verdict").count() == 0
        await expect(page.locator(".kind.escalation")).to_be_visible()
        await page.close()
