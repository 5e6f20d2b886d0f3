"""The operators' console in a real browser (Debian's Chromium): dispatch by form and by CSV file, assets
and a printed sheet of labels whose codes scan, connections, the outbox with a retry, the figures drawn
as SVG, the catalog and policy in force; no page breaks the CSP. Under `make screenshots` it writes
docs/screenshots/jobs.png, jobs-import.png, assets.png, labels.png, connections.png, outbox.png,
figures.png and settings.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from backend.events.tables import OutboxDelivery
from backend.installs import qr
from backend.principal import Role
from backend.settings import Settings
from tests.console.test_outbox_page import DOWN, _delivery
from tests.factories import Factory
from tests.helpers.review import case_id_of, helped, set_case
from tests.mobile_api.helpers import new_install, ready_install, submit

HEADER = "ean,asset_type,window_start,window_end,installer,self_install,serial"


async def _admin(browser: Browser, live_server: str, make: Factory, messages: list[str]) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="nl-NL")

    def collect(message: ConsoleMessage) -> None:
        messages.append(message.text)

    page.on("console", collect)
    await _sign_in_as_admin(page, live_server, make)
    return page


async def _sign_in_as_admin(page: Page, live_server: str, make: Factory) -> None:
    token = make.party(Role.ADMIN, "admin-kees").headers["Authorization"].removeprefix("Bearer ")
    await page.goto(f"{live_server}/console/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/jobs")


def _line(ean: str, installer: str, starts_in: timedelta, serial: str = "") -> str:
    start = (datetime.now(UTC) + starts_in).replace(minute=0, second=0, microsecond=0)
    return f"{ean},smart_meter_1p,{start.isoformat()},{(start + timedelta(hours=4)).isoformat()},{installer},,{serial}"


class TestDispatch:
    async def test_create_import_assign_in_the_browser(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path
    ) -> None:
        messages: list[str] = []
        page = await _admin(browser, live_server, make, messages)
        installer = f"inst-joost-{uuid.uuid4().hex[:4]}"

        form = page.locator("#new-job")
        await form.locator("input[name=ean]").fill(await make.connection())
        await form.locator("select[name=asset_type]").select_option("smart_meter_1p")
        await form.locator("input[name=installer]").fill(installer)
        await form.locator("button[type=submit]").click()
        await expect(page.locator(".flash")).to_have_text("De opdracht is aangemaakt.")

        serial, _ = await make.asset()
        lines = [_line(await make.connection(), installer, timedelta(days=d), serial if d == 2 else "") for d in (2, 3)]
        bad = "\n".join([HEADER, *lines, _line("871687000000000000", installer, timedelta(days=4))])
        await page.set_input_files("#import-jobs input[name=file]", files=[_csv(bad)])
        await page.click("#import-jobs button[type=submit]")
        await expect(page.locator(".faults")).to_contain_text("regel 4: onbekende aansluiting (EAN) 871687000000000000")
        await page.screenshot(path=str(screenshots / "jobs-import.png"), full_page=True)

        await page.set_input_files("#import-jobs input[name=file]", files=[_csv("\n".join([HEADER, *lines]))])
        await page.click("#import-jobs button[type=submit]")
        await expect(page.locator(".flash")).to_contain_text("Alle regels van het bestand")

        await page.fill("form.filters input[name=installer]", installer)
        await page.click("form.filters button[type=submit]")
        rows = page.locator("table.jobs tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.first).to_contain_text("toegewezen")
        last = rows.last
        await last.locator("summary").click()
        await last.locator("form.assign input[name=installer]").fill("inst-anna")
        await last.locator("form.assign button[type=submit]").click()
        await expect(page.locator(".flash")).to_have_text("De opdracht is toegewezen.")

        await page.goto(f"{live_server}/console/jobs?installer={installer}")
        await expect(page.locator("table.jobs tbody tr")).to_have_count(2)
        await page.locator("table.jobs tbody tr").first.locator("summary").click()
        await page.screenshot(path=str(screenshots / "jobs.png"), full_page=True)
        assert not [m for m in messages if "Content Security Policy" in m], messages
        await page.close()


class TestAssetsConnectionsOutbox:
    async def test_print_labels_that_scan(
        self, browser: Browser, live_server: str, make: Factory, settings: Settings, screenshots: Path
    ) -> None:
        serials = [(await make.asset("home_battery"))[0] for _ in range(3)]
        messages: list[str] = []
        page = await _admin(browser, live_server, make, messages)
        await page.click("header nav >> text=Apparaten")
        await page.select_option("form.filters select[name=asset_type]", "home_battery")
        await page.select_option("form.filters select[name=status]", "in_stock")
        await page.click("form.filters button[type=submit]")
        for serial in serials:
            await page.check(f"#asset-{serial} input[type=checkbox]")
        await page.screenshot(path=str(screenshots / "assets.png"), full_page=True)
        await page.close()
        # The sheet at 2 device pixels per CSS pixel (about 6 per QR module): what a printer gets, read back.
        # Printing is the form's POST (it records the labels' key), so the sheet page submits it itself.
        sheet = await browser.new_page(viewport={"width": 800, "height": 1130}, device_scale_factor=2)
        await _sign_in_as_admin(sheet, live_server, make)
        await sheet.goto(f"{live_server}/console/assets?asset_type=home_battery&status=in_stock")
        for serial in serials:
            await sheet.check(f"#asset-{serial} input[type=checkbox]")
        await sheet.click("#label-sheet button[type=submit]")
        await sheet.wait_for_url("**/console/assets/labels.svg")
        shot = screenshots / "labels.png"
        await sheet.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 800, "height": 260})
        read = sorted(b.text for b in zxingcpp.read_barcodes(Image.open(shot)))
        assert sorted(qr.verify(text, settings.qr_keys).serial for text in read) == sorted(serials)
        await sheet.close()
        assert not [m for m in messages if "Content Security Policy" in m], messages

    async def test_connections_and_the_outbox(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path
    ) -> None:
        owner = f"cust-{uuid.uuid4().hex[:6]}"
        for number in (3, 14, 27):
            await make.connection(owner=owner, house_number=number)
        failing, dead = await _delivery(), await _delivery(dead=True)
        messages: list[str] = []
        page = await _admin(browser, live_server, make, messages)
        try:
            await page.click("header nav >> text=Aansluitingen")
            await page.fill("form.filters input[name=owner]", owner)
            await page.click("form.filters button[type=submit]")
            await expect(page.locator("table.connections tbody tr")).to_have_count(3)
            await page.screenshot(path=str(screenshots / "connections.png"), full_page=True)

            await page.click("header nav >> text=Berichten")
            row = page.locator(f"#delivery-{failing}")
            await expect(row).to_contain_text("opdracht aangemaakt")
            await expect(row).to_contain_text("HTTP 503")
            await page.screenshot(path=str(screenshots / "outbox.png"), full_page=True)
            await page.click(".tabs a[href='/console/outbox?state=dead']")
            await page.locator(f"#delivery-{dead} button").click()
            await expect(page.locator(".flash")).to_have_text("De aflevering wordt zo opnieuw verstuurd.")
            [back] = await OutboxDelivery.select(OutboxDelivery.dead_at).where(OutboxDelivery.id == dead)
            assert back["dead_at"] is None
            assert not [m for m in messages if "Content Security Policy" in m], messages
        finally:
            await OutboxDelivery.delete().where(OutboxDelivery.url == DOWN)
            await page.close()


def _csv(text: str) -> dict[str, object]:
    return {"name": "opdrachten.csv", "mimeType": "text/csv", "buffer": text.encode()}


class TestFiguresAndSettings:
    async def test_charts_and_versions(
        self, browser: Browser, live_server: str, client: httpx.AsyncClient, make: Factory, screenshots: Path
    ) -> None:
        for _ in range(2):  # something to draw: automatic decisions (approved, retake) and an escalation
            assert (await submit(client, await ready_install(client, make))).json()["state"] == "approved"
        assert (await submit(client, await new_install(client, make))).json()["state"] == "needs_retake"
        helped_install = await new_install(client, make)
        await helped(client, helped_install)
        case_id = await case_id_of(helped_install.id)
        await set_case(
            case_id, due_at=datetime.now(UTC) - timedelta(hours=2), opened_at=datetime.now(UTC) - timedelta(hours=5)
        )
        messages: list[str] = []
        page = await _admin(browser, live_server, make, messages)
        await page.click("header nav >> text=Cijfers")
        await expect(page.locator("svg.chart")).to_have_count(7)
        box = await page.locator("#chart-by-reason").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not an empty box
        await expect(page.locator("#chart-auto-approval")).to_have_attribute("role", "img")
        await page.screenshot(path=str(screenshots / "figures.png"), full_page=True)
        await set_case(case_id, due_at=datetime.now(UTC) + timedelta(days=30))  # out of other tests' way
        await page.click("header nav >> text=Catalogus en beleid")
        await expect(page.locator("#catalog-version")).to_have_text("2026.12.1")
        await page.screenshot(path=str(screenshots / "settings.png"), full_page=True)
        assert not [m for m in messages if "Content Security Policy" in m], messages
        await page.close()

    async def test_a_specialist_is_shown_the_door(self, browser: Browser, live_server: str, make: Factory) -> None:
        page = await browser.new_page()
        token = make.party(Role.SPECIALIST).headers["Authorization"].removeprefix("Bearer ")
        await page.goto(f"{live_server}/console/login")
        await page.fill("#token", token)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/console/queue")
        await expect(page.locator("header nav")).to_have_count(0)  # no operator links for a specialist
        response = await page.goto(f"{live_server}/console/figures")
        assert response is not None and response.status == 403
        await expect(page.locator(".flash.error")).to_contain_text("alleen voor beheerders")
        await page.click("#home")
        await page.wait_for_url("**/console/queue")
        await page.close()
