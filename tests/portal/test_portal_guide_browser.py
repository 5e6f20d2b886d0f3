"""The self-install guide in Debian's Chromium on a phone (360x800, touch), with real photo files: a demo
customer starts an install from home, types the code printed under the label (the fallback: Chromium on
Linux has no BarcodeDetector; the WebAssembly reader and the fake-camera test are a later slice), takes a
blurred label photo and retakes it after its checks, takes the other photos, enters the reading, shares
the location through the browser's geolocation (permission granted, a fixed position), submits and sees it
approved. axe-core finds no serious or critical violation on any step. Under `make screenshots` it writes
docs/screenshots/portal-guide-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from tests.factories import ARNHEM, Factory
from tests.portal.test_portal_browser import _accessible

CUSTOMER = "cust-bram"  # a demo customer: the demo sign-in offers only those


class TestGuideOnAPhone:
    async def test_the_whole_self_install(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path, axe_source: str, tmp_path: Path
    ) -> None:
        ean = await make.connection(capacity="1x35A", owner=CUSTOMER)
        serial, payload = await make.asset()
        photos = {
            name: tmp_path / f"{name}.jpg" for name in ("blurred", "meter_label", "meter_display", "cabinet_overview")
        }
        photos["blurred"].write_bytes(make.photo("meter_label", payload=payload, serial=serial, blur_radius=12))
        for slot in ("meter_label", "meter_display", "cabinet_overview"):
            photos[slot].write_bytes(make.photo(slot, payload=payload, serial=serial))

        context = await browser.new_context(
            viewport={"width": 360, "height": 800},
            has_touch=True,
            is_mobile=True,
            locale="nl-NL",
            geolocation={"latitude": ARNHEM[0], "longitude": ARNHEM[1], "accuracy": 9},
            permissions=["geolocation"],
        )
        page = await context.new_page()
        sizes: dict[str, int] = {}

        async def kept(response: Any) -> None:
            if response.request.resource_type == "document" and response.status == 200:
                sizes[response.url] = len(await response.body())

        page.on("response", kept)

        async def step(title: str, shot: str | None = None) -> None:
            """The guide shows `title` as its step, focused after a step (a screen reader reads on there)."""
            await expect(page.locator("#step-title")).to_have_text(title)
            assert await page.evaluate("document.activeElement.id") == "step"
            await _accessible(page, axe_source)
            if shot:
                await page.screenshot(path=str(screenshots / f"portal-guide-{shot}.png"), full_page=True)

        await page.goto(f"{live_server}/portal/")
        await page.locator(f"#demo-{CUSTOMER}").tap()
        start = page.locator(f"form.start:has(input[value='{ean}'])")
        await start.get_by_label("Wat wilt u zelf installeren?").select_option("smart_meter_1p")
        await start.locator("button").tap()
        await expect(page.locator("#step-title")).to_have_text("Scan het QR-label van het apparaat.")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-guide-scan.png"), full_page=True)
        await expect(page.locator("[data-scan]")).to_be_hidden()  # no BarcodeDetector in Linux Chromium

        await page.get_by_label("Typ de code die onder het QR-label staat").fill(payload)
        await page.locator("#step button[type=submit]").tap()
        await step("Upload een foto van het meterlabel met de QR-code goed zichtbaar.")

        await page.locator("#photo").set_input_files(photos["blurred"])
        await page.locator("#step button[type=submit]").tap()
        await expect(page.locator("#shown-title")).to_contain_text("De controles van uw foto")
        await expect(page.locator(".checks .check-fail").first).to_contain_text("Nog niet goed")
        await expect(page.locator("label[for=photo]")).to_contain_text("Maak de foto opnieuw")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-guide-retake.png"), full_page=True)

        for slot in ("meter_label", "meter_display", "cabinet_overview"):
            await page.locator("#photo").set_input_files(photos[slot])
            await page.locator("#step button[type=submit]").tap()
            await expect(page.locator(".flash")).to_have_text("Uw foto is binnen. De controles staan hieronder.")

        await step("Vul de meterstand in die op het display staat.")
        await page.get_by_label("Meterstand in kWh, zoals op het display").fill("4512,7")
        await page.locator("#step button[type=submit]").tap()
        await step("Deel uw locatie bij de meterkast.", "location")
        await expect(page.locator("[data-locate-failed]")).to_be_hidden()  # geolocation is there
        await page.locator("#step button[type=submit]").tap()  # portal.js asks the browser for the fix

        await step("Verstuur de installatie ter controle.", "submit")
        await page.locator("#step button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text("Uw installatie is ingestuurd. De uitkomst staat hieronder.")
        await expect(page.locator("#step .state")).to_have_class("state state-approved")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-guide-approved.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await context.close()
        assert sizes and all(size < 100_000 for size in sizes.values()), sizes
