"""The self-install guide in Debian's Chromium on a phone (360x800, touch), with real photo files.

Typed: a demo customer starts an install from home, presses "scan with the camera" in a browser without a
camera, is told so and types the code printed under the label. Scanned: a
demo customer links a connection on the claim form, starts an install there and presses "scan with the
camera": Chromium's fake camera plays a video of the asset's printed label (a picture by the project's photo
generator) and Chromium on Linux has no BarcodeDetector, so the label is read by the WebAssembly zxing-cpp
reader the portal serves itself. Both then take a blurred label photo and retake it after its checks, take
the other photos, enter the reading, share the location through the browser's geolocation (permission
granted, a fixed position), submit and see it approved. axe-core finds no serious or critical violation on
any step. Under `make screenshots` the typed run writes docs/screenshots/portal-guide-*.png."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, Request, async_playwright, expect

from tests.console.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import ARNHEM, Factory
from tests.helpers.static import hashed
from tests.portal.test_portal_browser import _accessible

TYPIST = "cust-bram"  # demo customers: the demo sign-in offers only those
SCANNER = "cust-anna"
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 800},
    "has_touch": True,
    "is_mobile": True,
    "locale": "nl-NL",
    "geolocation": {"latitude": ARNHEM[0], "longitude": ARNHEM[1], "accuracy": 9},
}
READER = hashed("/portal/static/vendor/zxing-wasm/zxing_reader.wasm")  # as the page names it to scan.js


def _photos(make: Factory, serial: str, payload: str, folder: Path) -> dict[str, Path]:
    """The photo files the customer takes: a blurred label first, then each slot's photo."""
    photos = {name: folder / f"{name}.jpg" for name in ("blurred", "meter_label", "meter_display", "cabinet_overview")}
    photos["blurred"].write_bytes(make.photo("meter_label", payload=payload, serial=serial, blur_radius=12))
    for slot in ("meter_label", "meter_display", "cabinet_overview"):
        photos[slot].write_bytes(make.photo(slot, payload=payload, serial=serial))
    return photos


def _document_sizes(page: Page) -> dict[str, int]:
    """The bytes of every page (HTML document) the browser is answered with 200, filled as it goes."""
    sizes: dict[str, int] = {}

    async def kept(response: Any) -> None:
        if response.request.resource_type == "document" and response.status == 200:
            sizes[response.url] = len(await response.body())

    page.on("response", kept)
    return sizes


async def _step(page: Page, axe_source: str, screenshots: Path | None, title: str, shot: str | None = None) -> None:
    """The guide shows `title` as its step, focused after a step (a screen reader reads on there)."""
    await expect(page.locator("#step-title")).to_have_text(title)
    assert await page.evaluate("document.activeElement.id") == "step"
    await _accessible(page, axe_source)
    if shot and screenshots:
        await page.screenshot(path=str(screenshots / f"portal-guide-{shot}.png"), full_page=True)


async def _after_the_scan(page: Page, photos: dict[str, Path], axe_source: str, screenshots: Path | None) -> None:
    """From the first photo to the outcome: a blurred label photo retaken after its checks, the other photos,
    the reading, the location by the browser's geolocation, submit, approved."""
    await _step(page, axe_source, None, "Upload een foto van het meterlabel met de QR-code goed zichtbaar.")
    await page.locator("#photo").set_input_files(photos["blurred"])
    await page.locator("#step button[type=submit]").tap()
    await expect(page.locator("#shown-title")).to_contain_text("De controles van uw foto")
    await expect(page.locator(".checks .check-fail").first).to_contain_text("Nog niet goed")
    await expect(page.locator("label[for=photo]")).to_contain_text("Maak de foto opnieuw")
    await _accessible(page, axe_source)
    if screenshots:
        await page.screenshot(path=str(screenshots / "portal-guide-retake.png"), full_page=True)

    for slot in ("meter_label", "meter_display", "cabinet_overview"):
        await page.locator("#photo").set_input_files(photos[slot])
        async with page.expect_navigation():  # upload.js sends it in chunks, then opens the checks' page
            await page.locator("#step button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text("Uw foto is binnen. De controles staan hieronder.")

    await _step(page, axe_source, screenshots, "Vul de meterstand in die op het display staat.")
    await page.get_by_label("Meterstand in kWh, zoals op het display").fill("4512,7")
    await page.locator("#step button[type=submit]").tap()
    await _step(page, axe_source, screenshots, "Deel uw locatie bij de meterkast.", "location")
    await expect(page.locator("[data-locate-failed]")).to_be_hidden()  # geolocation is there
    await page.locator("#step button[type=submit]").tap()  # portal.js asks the browser for the fix

    await _step(page, axe_source, screenshots, "Verstuur de installatie ter controle.", "submit")
    await page.locator("#step button[type=submit]").tap()
    await expect(page.locator(".flash")).to_have_text("Uw installatie is ingestuurd. De uitkomst staat hieronder.")
    await expect(page.locator("#step .state")).to_have_class("state state-approved")
    await _accessible(page, axe_source)
    if screenshots:
        await page.screenshot(path=str(screenshots / "portal-guide-approved.png"), full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


def _y4m(picture: bytes, video: Path, frames: int = 5) -> Path:
    """`picture` held still before the camera, as Chromium's fake camera reads a video file: YUV4MPEG2,
    8-bit 4:2:0 (each chroma sample the mean of a 2x2 block, JPEG siting), the Y, Cb and Cr planes per frame."""
    image = Image.open(io.BytesIO(picture)).convert("YCbCr")
    width, height = image.width // 2 * 2, image.height // 2 * 2
    y, cb, cr = (np.asarray(plane, dtype=np.float32)[:height, :width] for plane in image.split())

    def quarter(plane: np.ndarray) -> bytes:
        blocks = plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        return np.rint(blocks).astype(np.uint8).tobytes()

    frame = b"FRAME\n" + y.astype(np.uint8).tobytes() + quarter(cb) + quarter(cr)
    video.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return video


@asynccontextmanager
async def _camera_browser(video: Path) -> AsyncIterator[Browser]:
    """Debian's Chromium whose camera is Chromium's fake one playing `video`, its prompt answered yes: a
    launch of its own, since the file is named on the command line."""
    camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *camera])
        try:
            yield browser
        finally:
            await browser.close()


class TestGuideOnAPhone:
    async def test_the_whole_self_install_with_the_typed_code(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path, axe_source: str, tmp_path: Path
    ) -> None:
        ean = await make.connection(capacity="1x35A", owner=TYPIST)
        serial, payload = await make.asset()
        photos = _photos(make, serial, payload, tmp_path)
        context = await browser.new_context(**PHONE, permissions=["geolocation"])
        page = await context.new_page()
        sizes = _document_sizes(page)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))

        await page.goto(f"{live_server}/portal/")
        await page.locator(f"#demo-{TYPIST}").tap()
        start = page.locator(f"form.start:has(input[value='{ean}'])")
        await start.get_by_label("Wat wilt u zelf installeren?").select_option("smart_meter_1p")
        await start.locator("button").tap()
        await expect(page.locator("#step-title")).to_have_text("Scan het QR-label van het apparaat.")
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-guide-scan.png"), full_page=True)
        # A browser that may have a camera is offered the scan; this one has none (no fake device, no
        # permission): the page says so, focused, the reader is not fetched, and typing the code works.
        await page.get_by_role("button", name="Scannen met de camera").tap()
        failed = page.locator("[data-scan-failed]")
        await expect(failed).to_be_visible()
        await expect(failed).to_be_focused()
        await expect(failed).to_have_text(
            "Het label lezen met de camera lukt hier niet. Typ hieronder de code die onder het QR-label staat."
        )
        assert not any("/vendor/zxing-wasm/" in url for url in asked)
        await _accessible(page, axe_source)

        await page.get_by_label("Typ de code die onder het QR-label staat").fill(payload)
        await page.locator("#step button[type=submit]").tap()
        await _after_the_scan(page, photos, axe_source, screenshots)
        await context.close()
        assert sizes and all(size < 100_000 for size in sizes.values()), sizes


class TestScanWithTheCamera:
    async def test_claim_install_and_scan_through_the_wasm_reader(
        self, live_server: str, make: Factory, axe_source: str, tmp_path: Path
    ) -> None:
        ean = await make.connection(capacity="1x35A", postcode="6811KJ", house_number=27)
        serial, payload = await make.asset()
        photos = _photos(make, serial, payload, tmp_path)
        # The printed label as a phone's camera sees it, at a camera's 960x720.
        video = _y4m(make.photo("meter_label", payload=payload, serial=serial, size=(960, 720)), tmp_path / "label.y4m")

        async with _camera_browser(video) as chromium:
            context: BrowserContext = await chromium.new_context(**PHONE, permissions=["geolocation", "camera"])
            # Chromium on Linux has no BarcodeDetector; should a later one have it, this page still has none.
            await context.add_init_script("delete window.BarcodeDetector")
            page = await context.new_page()
            sizes = _document_sizes(page)
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            fetched: dict[str, tuple[int, str]] = {}
            page.on("response", lambda r: fetched.update({r.url: (r.status, r.headers.get("content-type", ""))}))
            scanned: list[Request] = []
            page.on("request", lambda r: scanned.append(r) if r.url.endswith("/guide/scan") else None)

            await page.goto(f"{live_server}/portal/")
            await page.locator(f"#demo-{SCANNER}").tap()
            await expect(page.locator("h1")).to_have_text("Wat speelt er voor mij")
            await page.get_by_label("EAN (18 cijfers)").fill(ean)
            await page.get_by_label("Postcode").fill("6811 KJ")
            await page.get_by_label("Huisnummer").fill("27")
            await page.locator("#claim button[type=submit]").tap()
            await expect(page.locator(".flash")).to_have_text("De aansluiting is aan uw account gekoppeld.")
            await _accessible(page, axe_source)

            start = page.locator(f"form.start:has(input[value='{ean}'])")
            await start.get_by_label("Wat wilt u zelf installeren?").select_option("smart_meter_1p")
            await start.locator("button").tap()
            await expect(page.locator("#step-title")).to_have_text("Scan het QR-label van het apparaat.")
            await _accessible(page, axe_source)
            assert not any(READER in url for url in fetched)  # the reader is fetched on the press, not before

            await page.get_by_role("button", name="Scannen met de camera").tap()
            await _after_the_scan(page, photos, axe_source, None)
            await context.close()

        (scan,) = scanned  # one read, sent by scan.js: the code field was never typed in by the test
        assert parse_qs(scan.post_data or "")["payload"] == [payload]
        assert fetched[f"{live_server}{READER}"] == (200, "application/wasm")
        assert not blocked, blocked
        assert sizes and all(size < 100_000 for size in sizes.values()), sizes
