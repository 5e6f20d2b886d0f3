"""The case page's "plan a visit" form in a real browser (issue 13.5): typed windows become the customer's
choice; empty, the planning rule's; a half-filled window is refused and offers nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from tests.console.test_console import _escalated, _signed_in
from tests.factories import Factory
from tests.helpers.review import case_row
from tests.jobs.test_visits import visit_row

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


async def _claimed_case_page(browser, live_server: str, client: httpx.AsyncClient, make: Factory):  # noqa: ANN001, ANN202
    d, case_id = await _escalated(client, make)
    page = await _signed_in(browser, live_server, make)
    await page.goto(f"{live_server}/console/cases/{case_id}")
    await page.click("text=Claimen")
    await expect(page.locator("form.visit")).to_be_visible()
    return d, case_id, page


async def _fill_window(page: Page, n: int, start: datetime, end: datetime) -> None:
    await page.fill(f"input[name=start_{n}]", f"{start:%Y-%m-%dT%H:%M}")
    await page.fill(f"input[name=end_{n}]", f"{end:%Y-%m-%dT%H:%M}")


class TestPlanAVisit:
    async def test_typed_windows_installer_and_note(
        self,
        browser,
        live_server: str,
        client: httpx.AsyncClient,
        make: Factory,
        screenshots: Path,  # noqa: ANN001
    ) -> None:
        d, _, page = await _claimed_case_page(browser, live_server, client, make)
        day = (datetime.now(AMSTERDAM) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
        await _fill_window(page, 1, day, day + timedelta(hours=4))
        await _fill_window(page, 2, day + timedelta(days=1), day + timedelta(days=1, hours=4))
        await page.fill("input[name=visit_installer]", "inst-console")
        await page.fill("textarea[name=visit_note]", "Meterkast in de kelder.")
        await page.screenshot(path=str(screenshots / "case-visit-form.png"), full_page=True)
        await page.click("form.visit button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("Het bezoek is aangeboden")
        await expect(page.locator(".card.visit")).to_contain_text("aangeboden")
        await expect(page.locator("form.visit")).to_have_count(0)  # the case waits on the visit now
        assert (await case_row(d.id))["state"] == "visit"

        r = await client.get(f"/mobile/v1/installs/{d.id}/visit", headers=d.who.headers)
        assert r.status_code == 200, r.text
        starts = [datetime.fromisoformat(w["window_start"]) for w in r.json()["windows"]]
        assert starts == [day, day + timedelta(days=1)]  # typed in Amsterdam time
        row = await visit_row(d.id)
        assert row["installer_subject"] == "inst-console" and row["brief"]["note"] == "Meterkast in de kelder."
        await page.close()

    async def test_empty_windows_take_the_planning_rule_and_a_half_window_is_refused(
        self,
        browser,
        live_server: str,
        client: httpx.AsyncClient,
        make: Factory,  # noqa: ANN001
    ) -> None:
        d, _, page = await _claimed_case_page(browser, live_server, client, make)
        await page.fill("input[name=start_1]", "2030-01-07T09:00")  # no end
        await page.click("form.visit button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("Er is niets opgeslagen")
        assert (await case_row(d.id))["state"] == "open"

        await page.click("form.visit button[type=submit]")  # nothing typed: the planning rule's windows
        await expect(page.locator(".flash")).to_contain_text("Het bezoek is aangeboden")
        r = await client.get(f"/mobile/v1/installs/{d.id}/visit", headers=d.who.headers)
        assert len(r.json()["windows"]) == 6
        await page.close()
