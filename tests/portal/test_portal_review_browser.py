"""The second self-install through the portal's guide in Debian's Chromium on a phone (360x800, touch): it
ends in review. The customer shares a location 1.3 km from the connection's address (the location check's
max_distance_m is 150: suspected fraud, not a retake), submits, asks for a person with a message from the
guide, and reads the expected decision time and why a person looks at it on the install's page and home.
A specialist then asks for an extra photo (the review API's request_info); the customer first picks a file
that is not a photo (upload.js says the refusal in words), then answers with a real photo from the install's
page, and the install is back with the specialist. axe-core finds no serious or critical violation on any
page. Under `make screenshots` it writes docs/screenshots/portal-review-*.png and portal-answer*.png."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from backend.principal import Role
from tests.factories import ARNHEM, Factory
from tests.helpers.review import case_id_of, decided
from tests.portal.phone import phone

CUSTOMER = "cust-anna"  # a demo customer: the demo sign-in offers only those
FAR = (ARNHEM[0] + 0.012, ARNHEM[1])  # 1.3 km north of the connection's address, in the service area
ASKED = "een foto van de aardlekschakelaar"


class TestGuideEndingInReview:
    async def test_review_help_expected_time_and_the_extra_photo(
        self, browser: Browser, live_server: str, make: Factory, screenshots: Path, axe_source: str, tmp_path: Path
    ) -> None:
        ean = await make.connection(capacity="1x35A", owner=CUSTOMER)
        serial, payload = await make.asset()
        files = {slot: tmp_path / f"{slot}.jpg" for slot in ("meter_label", "meter_display", "cabinet_overview")}
        for slot, path in files.items():
            path.write_bytes(make.photo(slot, payload=payload, serial=serial))
        extra, not_a_photo = tmp_path / "aardlek.jpg", tmp_path / "notities.txt"
        extra.write_bytes(make.photo("cabinet_overview"))
        not_a_photo.write_text("geen foto")

        it = await phone(
            browser,
            axe_source,
            screenshots,
            geolocation={"latitude": FAR[0], "longitude": FAR[1], "accuracy": 12},
            permissions=["geolocation"],
        )
        page = it.page
        submit = page.locator("#step button[type=submit]")
        await page.goto(f"{live_server}/portal/")
        await page.locator(f"#demo-{CUSTOMER}").tap()
        start = page.locator(f"form.start:has(input[value='{ean}'])")
        await start.get_by_label("Wat wilt u zelf installeren?").select_option("smart_meter_1p")
        await start.locator("button").tap()
        await page.get_by_label("Typ de code die onder het QR-label staat").fill(payload)
        await submit.tap()
        for path in files.values():
            await page.locator("#photo").set_input_files(path)
            async with page.expect_navigation():  # upload.js sends it in chunks, then opens the checks' page
                await submit.tap()
            await expect(page.locator(".flash")).to_have_text("Uw foto is binnen. De controles staan hieronder.")
        await page.get_by_label("Meterstand in kWh, zoals op het display").fill("4512,7")
        await submit.tap()
        await expect(page.locator("#step-title")).to_have_text("Deel uw locatie bij de meterkast.")
        await submit.tap()  # portal.js hands over the browser's (far) fix
        await expect(page.locator("#step-title")).to_have_text("Verstuur de installatie ter controle.")
        await submit.tap()

        # In review: the guide says so with the expected decision time, and offers a person.
        await expect(page.locator("#step .state")).to_have_class("state state-in_review")
        await expect(page.locator("#step .expected")).to_contain_text("Verwacht besluit:")
        await it.check("guide-review")
        await page.get_by_label("Uw bericht (niet verplicht)").fill("Ik sta echt bij de meterkast.")
        await page.locator("#help button[type=submit]").tap()

        # The install's page: the message is sent, when a decision comes and why, in words.
        await expect(page.locator(".flash")).to_have_text(
            "Uw bericht is verstuurd. Een medewerker neemt contact met u op."
        )
        install_url = page.url.split("?")[0]
        install_id = install_url.rsplit("/", 1)[1]
        await expect(page.locator(".expected")).to_contain_text("Verwacht besluit:")
        reasons = page.locator("ul.reasons li")
        await expect(reasons).to_contain_text(["het bewijs roept vragen op", "u vroeg om een persoon"])
        await expect(page.locator(".checks")).to_contain_text("m van het adres van de aansluiting")
        await it.check("review-install")

        # Home: the same expected time, and the reason in the next action's words.
        await page.get_by_role("link", name="Terug naar het overzicht").tap()
        card = page.locator(f"#install-{install_id}")
        await expect(card.locator(".state")).to_have_text("Een specialist bekijkt uw installatie.")
        await expect(card.locator(".expected")).to_contain_text("Verwacht besluit:")
        await expect(card.locator(".actions")).to_contain_text("het bewijs roept vragen op")
        await it.check("review-home")

        # A specialist asks for an extra photo; the customer answers it from the install's page.
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
            spec = make.party(Role.SPECIALIST)
            await decided(api, spec, await case_id_of(install_id), "request_info", "photo_unclear", extra_photo=ASKED)
        await page.goto(install_url)
        answer = page.locator("#answer")
        await expect(answer).to_contain_text(ASKED)
        await it.check("answer")
        await page.get_by_label("Maak de foto").set_input_files(not_a_photo)
        await answer.locator("form[enctype] button").tap()
        # upload.js (the photo in chunks, tests/portal/test_portal_upload_browser.py) says the refusal in words.
        await expect(answer.locator("[data-upload-said]")).to_contain_text("stuur een JPEG-, PNG- of HEIC-foto")
        await it.check("answer-refused")
        await page.get_by_label("Maak de foto").set_input_files(extra)
        async with page.expect_navigation():  # the last chunk in, the script opens the page the form ends on
            await answer.locator("form[enctype] button").tap()
        await expect(page.locator(".flash")).to_have_text("Dank u: uw antwoord is bij de specialist.")
        await expect(page.locator("#answer")).to_have_count(0)
        await expect(page.locator(".state")).to_have_class("state state-in_review")
        await it.check("answer-sent")
        await it.close()

        async with httpx.AsyncClient(base_url=live_server) as api:
            view = (
                await api.get(f"/mobile/v1/installs/{install_id}", headers=make.party(Role.CUSTOMER, CUSTOMER).headers)
            ).json()
        assert view["state"] == "in_review" and {"suspected_fraud", "human_requested"} <= set(view["reasons"])
        assert any(p["slot"].startswith("extra_") for p in view["photos"])
