"""A photo upload through a bad connection, in Debian's Chromium on a phone (360x800, touch): upload.js sends
the guide's photo in chunks; the connection drops in the middle of one (the server got part of it), the
script says so in the live region, asks the server for its offset and continues from there, and the guide
shows the photo's checks. A reload in the middle of an upload continues it when the same photo is chosen
again. The extra photo a specialist asks for goes the same way from the install's page and ends with the
answer with the specialist. The route handler counts every byte that reached the server: none is sent twice,
and the server holds exactly one photo for the slot."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from backend.installs import service
from backend.installs.asked import EXTRA_SLOT_PREFIX
from backend.portal.http import CHUNK_BYTES
from backend.principal import Principal, Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, decided, helped
from tests.mobile_api.helpers import new_install
from tests.portal.test_portal_browser import _accessible

CUSTOMER = "cust-anna"  # a demo customer: the demo sign-in offers only those
SLOT = "meter_label"
PHOTO_SIZE = (2400, 1800)  # ~600 kB: more than one chunk
RETRYING = "Verbinding weg, we proberen het opnieuw…"
CHECKED = "Uw foto is binnen. De controles staan hieronder."
OFFLINE = "Geen verbinding. We gaan verder zodra uw telefoon weer verbinding heeft…"
ASKED = "een foto van de aardlekschakelaar"
ANSWERED = "Dank u: uw antwoord is bij de specialist."


@dataclass
class Wire:
    """What each PATCH brought the server: (Upload-Offset, bytes)."""

    reached: list[tuple[int, int]] = field(default_factory=list)
    offline: bool = False  # the phone was taken offline

    def contiguous(self) -> bool:
        return all(a + n == b for (a, n), (b, _) in zip(self.reached, self.reached[1:], strict=False))

    @property
    def total(self) -> int:
        return sum(n for _, n in self.reached)


async def _phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 360, "height": 800}, has_touch=True, is_mobile=True)


async def _at_the_photo_step(page: Page, live_server: str, make: Factory, tmp_path: Path) -> tuple[uuid.UUID, Path]:
    """Signed in as the demo customer, an install started and its label typed: the guide asks for the photo."""
    ean = await make.connection(capacity="1x35A", owner=CUSTOMER)
    serial, payload = await make.asset()
    photo = tmp_path / "label.jpg"
    photo.write_bytes(make.photo(SLOT, payload=payload, serial=serial, size=PHOTO_SIZE))
    assert photo.stat().st_size > CHUNK_BYTES
    await page.goto(f"{live_server}/portal/")
    await page.locator(f"#demo-{CUSTOMER}").tap()
    start = page.locator(f"form.start:has(input[value='{ean}'])")
    await start.get_by_label("Wat wilt u zelf installeren?").select_option("smart_meter_1p")
    await start.locator("button").tap()
    await page.get_by_label("Typ de code die onder het QR-label staat").fill(payload)
    await page.locator("#step button[type=submit]").tap()
    await expect(page.locator("#step-title")).to_have_text(
        "Upload een foto van het meterlabel met de QR-code goed zichtbaar."
    )
    install_id = uuid.UUID(page.url.split("/installs/")[1].split("/")[0])
    return install_id, photo


async def _listen(page: Page) -> list[str]:
    """Every text the live region says, as it says it."""
    heard: list[str] = []

    def hear(text: str) -> None:
        heard.append(text)

    await page.expose_function("heard", hear)
    await page.evaluate(
        """() => { const said = document.querySelector('[data-upload-said]');
        new MutationObserver(() => window.heard(said.textContent))
          .observe(said, { childList: true, characterData: true, subtree: true }); }"""
    )
    return heard


async def _photos_in_slot(install_id: uuid.UUID, slot: str = SLOT) -> list[int]:
    snap = await service.get_install(Principal(subject=CUSTOMER, role=Role.CUSTOMER), install_id)
    return [p.id for p in snap.photos if p.slot.startswith(slot)]


def _headers(all_headers: dict[str, str], **changed: str) -> dict[str, str]:
    kept = {k: v for k, v in all_headers.items() if k.lower() not in ("content-length", "host")}
    return {**kept, **changed}


def _half_of_the_first_chunk(
    wire: Wire, then: Callable[[Route], Awaitable[None]], seen: asyncio.Event | None = None
) -> Callable[[Route], Awaitable[None]]:
    """A route for the portal's uploads: the server gets the first half of the first chunk, and `then` says
    what the phone sees of it (its connection reset, or no answer ever); every later chunk goes through, and
    `wire` records what each brought. With `seen`, the offset query (HEAD) waits for it: the retry's words
    are looked at first."""

    async def route_it(route: Route) -> None:
        request = route.request
        if seen is not None and request.method == "HEAD":
            await seen.wait()
        if request.method != "PATCH":
            await route.continue_()
            return
        body = request.post_data_buffer or b""
        offset = int(await request.header_value("upload-offset") or "-1")
        if wire.reached:
            wire.reached.append((offset, len(body)))
            await route.continue_()
            return
        half = body[: len(body) // 2]
        headers = _headers(await request.all_headers(), **{"upload-complete": "?0"})
        response = await route.fetch(post_data=half, headers=headers)
        assert response.status == 204 and response.headers["upload-offset"] == str(len(half))
        wire.reached.append((offset, len(half)))
        await then(route)

    return route_it


async def _reset(route: Route) -> None:
    await route.abort("connectionreset")


class TestUploadThroughABadConnection:
    async def test_a_drop_mid_chunk_resumes_from_the_servers_offset(
        self, browser: Browser, live_server: str, make: Factory, axe_source: str, screenshots: Path, tmp_path: Path
    ) -> None:
        context = await _phone(browser)
        page = await context.new_page()
        install_id, photo = await _at_the_photo_step(page, live_server, make, tmp_path)
        wire = Wire()
        seen = asyncio.Event()  # the offset query waits until the retry's words were looked at

        await page.route("**/portal/uploads/*", _half_of_the_first_chunk(wire, _reset, seen))
        heard = await _listen(page)
        await page.locator("#photo").set_input_files(photo)
        await page.locator("#step button[type=submit]").tap()
        await expect(page.locator("[data-upload-said]")).to_contain_text(RETRYING)
        await expect(page.locator("[data-upload-bar]")).to_be_visible()
        await _accessible(page, axe_source)
        await page.screenshot(path=str(screenshots / "portal-guide-upload-retry.png"), full_page=True)
        seen.set()
        await expect(page.locator(".flash")).to_have_text(CHECKED)
        await expect(page.locator("#shown-title")).to_contain_text("De controles van uw foto")

        size = photo.stat().st_size
        assert wire.reached[0] == (0, CHUNK_BYTES // 2)
        assert wire.reached[1][0] == CHUNK_BYTES // 2  # from the server's offset, not from 0
        assert wire.contiguous() and wire.total == size, wire.reached  # no byte sent twice
        assert any(text.startswith(RETRYING) for text in heard), heard
        arrived = 100 * (CHUNK_BYTES // 2) // size
        assert f"We gaan verder waar het versturen stopte: {arrived}% was al binnen." in heard, heard
        assert len(await _photos_in_slot(install_id)) == 1
        assert await page.evaluate("window.sessionStorage.length") == 0  # the finished upload is forgotten
        await _accessible(page, axe_source)
        await context.close()

    async def test_a_reload_mid_upload_continues_with_the_same_photo(
        self, browser: Browser, live_server: str, make: Factory, axe_source: str, tmp_path: Path
    ) -> None:
        context = await _phone(browser)
        page = await context.new_page()
        install_id, photo = await _at_the_photo_step(page, live_server, make, tmp_path)
        wire = Wire()
        held, reloaded = asyncio.Event(), asyncio.Event()

        async def hold_the_second_chunk(route: Route) -> None:
            request = route.request
            if request.method != "PATCH":
                await route.continue_()
                return
            offset = int(await request.header_value("upload-offset") or "-1")
            if len(wire.reached) == 1 and not reloaded.is_set():  # the customer reloads while it is on its way
                held.set()
                await reloaded.wait()
                await route.abort("connectionreset")
                return
            wire.reached.append((offset, len(request.post_data_buffer or b"")))
            await route.continue_()

        await page.route("**/portal/uploads/*", hold_the_second_chunk)
        await page.locator("#photo").set_input_files(photo)
        await page.locator("#step button[type=submit]").tap()
        await held.wait()
        await page.reload()
        reloaded.set()
        await expect(page.locator("#step-title")).to_have_text(
            "Upload een foto van het meterlabel met de QR-code goed zichtbaar."
        )
        heard = await _listen(page)
        await page.locator("#photo").set_input_files(photo)  # the same file: name, size, lastModified
        await page.locator("#step button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text(CHECKED)

        assert wire.reached[0] == (0, CHUNK_BYTES) and wire.reached[1][0] == CHUNK_BYTES, wire.reached
        assert wire.contiguous() and wire.total == photo.stat().st_size, wire.reached
        assert any(text.startswith("We gaan verder waar het versturen stopte") for text in heard), heard
        assert len(await _photos_in_slot(install_id)) == 1
        await context.close()

    async def test_a_silent_connection_is_given_up_and_resumed(
        self, browser: Browser, live_server: str, make: Factory, tmp_path: Path
    ) -> None:
        """A half-open connection: the server got half of the first chunk, then nothing comes back. The
        script gives the request up after SILENCE_MS without a byte sent or an answer (the page's clock is
        Playwright's, moved by the test), asks the server and continues from its offset."""
        context = await _phone(browser)
        page = await context.new_page()
        await page.clock.install()
        install_id, photo = await _at_the_photo_step(page, live_server, make, tmp_path)
        # From here the page's time moves only when the test moves it: the watchdog and the wait after it
        # fire exactly where run_for puts them, however slowly the machine runs the rest.
        await page.clock.pause_at(await page.evaluate("Date.now()") + 1_000)
        wire = Wire()
        silent = asyncio.Event()

        async def no_answer(_route: Route) -> None:
            silent.set()  # and no answer ever reaches the phone

        await page.route("**/portal/uploads/*", _half_of_the_first_chunk(wire, no_answer))
        await page.locator("#photo").set_input_files(photo)
        await page.locator("#step button[type=submit]").tap()
        await silent.wait()
        await expect(page.locator("[data-upload-said]")).to_have_text("Uw foto wordt verstuurd: 0%")
        await page.clock.run_for(30_100)  # SILENCE_MS: the request is given up (the retry waits a second more)
        await expect(page.locator("[data-upload-said]")).to_contain_text(RETRYING)
        await page.clock.run_for(1_000)  # the first wait before trying again
        await expect(page.locator(".flash")).to_have_text(CHECKED)

        assert wire.reached[1][0] == CHUNK_BYTES // 2, wire.reached  # from the server's offset
        assert wire.contiguous() and wire.total == photo.stat().st_size, wire.reached
        assert len(await _photos_in_slot(install_id)) == 1
        await context.close()

    async def test_offline_for_a_while_waits_for_the_connection(
        self, browser: Browser, live_server: str, make: Factory, tmp_path: Path
    ) -> None:
        """The phone loses its network after the first chunk (Chromium's offline mode): the script says so and
        waits, spending no try, until the phone is online again; then it continues from the server's offset."""
        context = await _phone(browser)
        page = await context.new_page()
        install_id, photo = await _at_the_photo_step(page, live_server, make, tmp_path)
        wire = Wire()

        async def offline_after_the_first_chunk(route: Route) -> None:
            request = route.request
            if request.method == "PATCH" and len(wire.reached) == 1 and not wire.offline:
                wire.offline = True
                await context.set_offline(True)
                await route.abort("internetdisconnected")
                return
            if request.method == "PATCH":
                offset = int(await request.header_value("upload-offset") or "-1")
                wire.reached.append((offset, len(request.post_data_buffer or b"")))
            await route.continue_()

        await page.route("**/portal/uploads/*", offline_after_the_first_chunk)
        await page.locator("#photo").set_input_files(photo)
        await page.locator("#step button[type=submit]").tap()
        await expect(page.locator("[data-upload-said]")).to_have_text(OFFLINE)
        assert await page.evaluate("navigator.onLine") is False
        await context.set_offline(False)
        await expect(page.locator(".flash")).to_have_text(CHECKED)

        assert wire.reached[0] == (0, CHUNK_BYTES) and wire.reached[1][0] == CHUNK_BYTES, wire.reached
        assert wire.contiguous() and wire.total == photo.stat().st_size, wire.reached
        assert len(await _photos_in_slot(install_id)) == 1
        await context.close()


class TestAnswerThroughABadConnection:
    async def test_the_asked_photo_resumes_after_a_cut_and_the_answer_is_in(
        self, browser: Browser, live_server: str, make: Factory, axe_source: str, tmp_path: Path
    ) -> None:
        """A specialist asked the demo customer for an extra photo; from the install's page upload.js sends it
        into the request's own slot, the connection resets after the server got half of the first chunk, and
        the script continues from the server's offset to the page the form path ends on."""
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
            d = await new_install(api, make, who=make.party(Role.CUSTOMER, CUSTOMER))
            await helped(api, d)
            spec = make.party(Role.SPECIALIST)
            await decided(api, spec, await case_id_of(d.id), "request_info", "photo_unclear", extra_photo=ASKED)
        photo = tmp_path / "aardlek.jpg"
        photo.write_bytes(make.photo("cabinet_overview", size=PHOTO_SIZE))
        assert photo.stat().st_size > CHUNK_BYTES
        context = await _phone(browser)
        page = await context.new_page()
        await page.goto(f"{live_server}/portal/")
        async with page.expect_navigation():
            await page.locator(f"#demo-{CUSTOMER}").tap()
        await page.goto(f"{live_server}/portal/installs/{d.id}")
        await expect(page.locator("#answer")).to_contain_text(ASKED)
        wire = Wire()

        await page.route("**/portal/uploads/*", _half_of_the_first_chunk(wire, _reset))
        heard = await _listen(page)
        await page.get_by_label("Maak de foto").set_input_files(photo)
        await page.locator("#answer form[enctype] button[type=submit]").tap()
        await expect(page.locator(".flash")).to_have_text(ANSWERED)
        await expect(page.locator("#answer")).to_have_count(0)
        await expect(page.locator(".state")).to_have_class("state state-in_review")

        size = photo.stat().st_size
        assert wire.reached[0] == (0, CHUNK_BYTES // 2)
        assert wire.reached[1][0] == CHUNK_BYTES // 2, wire.reached  # from the server's offset, not from 0
        assert wire.contiguous() and wire.total == size, wire.reached  # no byte sent twice
        assert any(text.startswith(RETRYING) for text in heard), heard
        assert any(text.startswith("We gaan verder waar het versturen stopte") for text in heard), heard
        assert len(await _photos_in_slot(uuid.UUID(d.id), EXTRA_SLOT_PREFIX)) == 1
        assert await page.evaluate("window.sessionStorage.length") == 0
        await _accessible(page, axe_source)
        await context.close()
