"""The portal's self-install guide without a browser: start an install from home (only a type the
catalog lets a customer install at that capacity), each step as a form over the mobile API's services,
a photo's checks at once with its retake, submit and the outcome, and who may do what (another's
install is a 404, no session is the sign-in page, a form without its CSRF token is refused)."""

from __future__ import annotations

import re
import uuid

import httpx

from backend.principal import Role
from tests.factories import Factory
from tests.mobile_api.helpers import new_install
from tests.portal.helpers import flash_of, form, portal_headers
from tests.portal.test_portal_pages import _portal

NL = {"Accept-Language": "nl-NL"}
EN = {"Accept-Language": "en"}
BLURRED = {"blur_radius": 12}


def _step(page: httpx.Response) -> str:
    """The current step's form action (its last path part), or '' when no step is left."""
    found = re.search(r'action="/portal/installs/[^/]+/guide/([a-z_/]+)"', page.text)
    return found.group(1) if found else ""


async def _photo(client: httpx.AsyncClient, url: str, headers: dict[str, str], slot: str, data: bytes) -> str:
    files = {"photo": (f"{slot}.jpg", data, "image/jpeg")}
    r = await client.post(f"{url}/photos/{slot}", headers=headers, data=form(headers), files=files)
    assert r.status_code == 303, r.text
    return r.headers["location"]


class TestStart:
    async def test_home_offers_what_the_catalog_allows_and_starts_it(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(capacity="1x35A", owner=customer.subject)
        headers = await portal_headers(client, customer.subject)
        home = await client.get("/portal/", headers={**headers, **EN})
        offered = re.findall(r'<option value="([a-z0-9_]+)"', home.text)
        assert offered == ["smart_meter_1p", "home_battery"]  # not the 3-phase meter nor the large battery
        install_id = re.search(r'name="id" value="([0-9a-f-]{36})"', home.text).group(1)  # type: ignore[union-attr]
        fields = form(headers, id=install_id, connection_ean=ean, asset_type="smart_meter_1p")
        for _ in range(2):  # pressed twice: one install
            r = await client.post("/portal/installs", headers=headers, data=fields)
            assert r.status_code == 303 and r.headers["location"] == f"/portal/installs/{install_id}/guide"
        home = await client.get("/portal/", headers=headers)
        assert home.text.count(f"/portal/installs/{install_id}/guide") == 1

    async def test_a_type_not_for_customers_or_anothers_connection_is_refused(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        mine = await make.connection(capacity="3x25A", owner=customer.subject)
        theirs = await make.connection(capacity="1x35A", owner=make.party(Role.CUSTOMER).subject)
        headers = await portal_headers(client, customer.subject)
        # Refused at once on the home page, in full words: the catalog's label and the role's word, no id.
        for ean, asset_type, lang, status, words in (
            (mine, "smart_meter_3p", NL, 403, "Een klant mag een slimme meter (3-fase) niet zelf installeren."),
            (mine, "smart_meter_3p", EN, 403, "A customer may not self-install a smart meter (three phase)."),
            (theirs, "smart_meter_1p", NL, 404, "Deze aansluiting is niet gevonden."),
        ):
            fields = form(headers, id=str(uuid.uuid4()), connection_ean=ean, asset_type=asset_type)
            r = await client.post("/portal/installs", headers={**headers, **lang}, data=fields)
            assert r.status_code == status and 'class="flash error"' in r.text and words in r.text, r.text
            assert "…" not in flash_of(r) and "smart_meter_3p niet" not in r.text
            assert 'id="claim-ean"' in r.text  # the home page, its forms to go on with
        fields = form(headers, id="not-an-id", connection_ean=mine, asset_type="smart_meter_1p")
        r = await client.post("/portal/installs", headers={**headers, **EN}, data=fields)
        assert r.status_code == 422 and "Pick what you want to install yourself on one of your connections" in r.text
        assert (await client.get("/portal/", headers=headers)).text.count("/guide") == 0


class TestGuide:
    async def test_the_whole_self_install_with_a_retake(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        headers = await portal_headers(client, d.who.subject)
        url = f"/portal/installs/{d.id}/guide"
        page = await client.get(url, headers={**headers, **NL})
        assert page.status_code == 200 and _step(page) == "scan" and "Typ de code die onder het QR-label" in page.text
        assert len(page.content) < 100_000
        r = await client.post(f"{url}/scan", headers=headers, data=form(headers, payload=f"  {payload} "))
        assert r.status_code == 303 and r.headers["location"] == f"{url}?msg=step_done#step"
        # The steps in the order of the install's next actions; a reload resumes at the current one.
        assert _step(await client.get(url, headers=headers)) == "photos/meter_label"
        blurred = make.photo("meter_label", payload=payload, serial=serial, **BLURRED)
        shown = await _photo(client, url, headers, "meter_label", blurred)
        page = await client.get(shown, headers={**headers, **EN})
        # The checks at once, in words with the fix, and the retake as the current step.
        assert "The checks of your photo" in page.text and "Not good yet" in page.text
        assert re.search(r"\d of \d+ checks are good", page.text)
        assert _step(page) == "photos/meter_label" and "Retake the photo" in page.text
        for slot in ("meter_label", "meter_display", "cabinet_overview"):
            await _photo(client, url, headers, slot, make.photo(slot, payload=payload, serial=serial))
        fix = make.fix()
        for step, post in (
            ("reading", {"value": "4512,7"}),
            ("location", {"lat": str(fix["lat"]), "lon": str(fix["lon"]), "accuracy_m": "9.5"}),
        ):
            page = await client.get(url, headers=headers)
            assert _step(page) == step, step
            r = await client.post(f"{url}/{step}", headers=headers, data=form(headers, **post))
            assert r.headers["location"].endswith("msg=step_done#step")
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["reading"] == 4512.7 and api["location"]["accuracy_m"] == 9.5
        page = await client.get(url, headers=headers)
        assert _step(page) == "submit"
        r = await client.post(f"{url}/submit", headers=headers, data=form(headers))
        assert r.headers["location"] == f"{url}?msg=submitted#step"
        page = await client.get(r.headers["location"], headers={**headers, **EN})
        assert _step(page) == "" and "state-approved" in page.text, page.text

    async def test_a_wrong_code_and_a_malformed_reading_say_why(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        url = f"/portal/installs/{d.id}/guide"
        r = await client.post(f"{url}/scan", headers={**headers, **NL}, data=form(headers, payload="SI1:K1:NOPE"))
        assert r.status_code == 422 and 'class="flash error"' in r.text and _step(r) == "scan"
        assert "Dit is geen geldig label van ons" in r.text and 'value="SI1:K1:NOPE"' in r.text  # as typed, to fix
        r = await client.post(f"{url}/scan", headers={**headers, **EN}, data=form(headers, payload="a\x00b"))
        assert r.status_code == 422 and "Type the code printed under the QR label exactly as printed" in r.text
        for lang, words in (
            (NL, "Typ de meterstand als getal, zoals op het display: bijvoorbeeld 4512,7."),
            (EN, "Type the reading as a number, as on the display: for example 4512.7."),
        ):
            r = await client.post(f"{url}/reading", headers={**headers, **lang}, data=form(headers, value="veel"))
            assert r.status_code == 422 and words in r.text and "…" not in flash_of(r)
        r = await client.post(f"{url}/photos/meter_label", headers={**headers, **EN}, data=form(headers))
        assert r.status_code == 422 and "Choose a photo or take one, then send it." in r.text
        r = await client.post(f"{url}/location", headers={**headers, **NL}, data=form(headers, lat="hier"))
        assert r.status_code == 422 and "Uw locatie is niet doorgekomen." in r.text
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["reading"] is None and api["photos"] == [] and api["location"] is None

    async def test_a_reading_as_a_person_types_it(self, client: httpx.AsyncClient, make: Factory) -> None:
        """A decimal comma and thousands separators, Dutch or English; an ambiguous '1.234' in the page's way."""
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        url = f"/portal/installs/{d.id}/guide"
        for lang, typed, value in (
            (NL, "1.234,5", 1234.5),
            (NL, "4 512,7 kWh", 4512.7),
            (EN, "1,234.5", 1234.5),
            (NL, "1.234", 1234.0),
            (EN, "1.234", 1.234),
            (NL, "1234.5", 1234.5),
        ):
            r = await client.post(f"{url}/reading", headers={**headers, **lang}, data=form(headers, value=typed))
            assert r.status_code == 303 and r.headers["location"] == f"{url}?msg=step_done#step", (typed, r.text)
            api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
            assert api["reading"] == value, typed
        for typed in ("1.23,5", "12,3,4", "1e9", "--5"):
            r = await client.post(f"{url}/reading", headers={**headers, **NL}, data=form(headers, value=typed))
            assert r.status_code == 422 and "Typ de meterstand als getal" in r.text, typed

    async def test_in_review_the_guide_says_when_the_decision_comes(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        r = await client.post(f"/portal/installs/{d.id}/help", headers=headers, data=form(headers, message="Help"))
        assert r.status_code == 303
        page = await client.get(f"/portal/installs/{d.id}/guide", headers={**headers, **EN})
        assert _step(page) == "" and "state-in_review" in page.text and "Expected decision:" in page.text

    async def test_a_photo_above_the_limit_or_not_a_photo_is_refused(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        async with _portal({"MAX_PHOTO_BYTES": "4096"}) as portal:
            headers = await portal_headers(portal, d.who.subject)
            url = f"/portal/installs/{d.id}/guide"
            for name, data, kind, status, words in (
                ("label.jpg", make.photo("meter_label"), "image/jpeg", 413, "The photo is too large"),
                ("label.txt", b"not a photo", "text/plain", 415, "send a JPEG, PNG or HEIC photo"),
                ("label.txt", make.photo("meter_label"), "application/octet-stream", 415, "send a JPEG, PNG or HEIC"),
            ):
                files = {"photo": (name, data, kind)}
                sent = {**headers, **EN}
                r = await portal.post(f"{url}/photos/meter_label", headers=sent, data=form(headers), files=files)
                assert r.status_code == status and words in r.text and _step(r) == "scan"  # the guide, at its step
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["photos"] == []

    async def test_a_photo_the_browser_knows_no_type_for_goes_by_its_name(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        """A phone's browser sends a HEIC (or a photo picked from a folder) as application/octet-stream or with
        no type: its name says what it is, and the bytes are checked as always."""
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        url = f"/portal/installs/{d.id}/guide"
        unnamed = (
            ("meter_label", "IMG_1.JPG", "application/octet-stream"),
            ("meter_display", "b.jpeg", "application/octet-stream"),
        )
        for slot, name, kind in unnamed:
            files = {"photo": (name, make.photo(slot), kind)}
            r = await client.post(f"{url}/photos/{slot}", headers=headers, data=form(headers), files=files)
            assert r.status_code == 303 and "msg=photo_checked" in r.headers["location"], r.headers["location"]
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert sorted(p["slot"] for p in api["photos"]) == ["meter_display", "meter_label"]


class TestGuideAccess:
    async def test_only_the_customer_on_their_own_install(self, client: httpx.AsyncClient, make: Factory) -> None:
        theirs = await new_install(client, make)
        url = f"/portal/installs/{theirs.id}/guide"
        r = await client.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/portal/login"
        for role in (Role.SPECIALIST, Role.INSTALLER, Role.ADMIN):
            r = await client.get(url, headers=make.party(role).headers)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", role
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        assert (await client.get(url, headers=headers)).status_code == 404
        posts = {"scan": {"payload": "X"}, "location": {"lat": "1", "lon": "1", "accuracy_m": "5"}}
        for step, fields in {**posts, "reading": {"value": "1"}, "submit": {}}.items():
            r = await client.post(f"{url}/{step}", headers=headers, data=form(headers, **fields))
            assert r.status_code == 404, step
        files = {"photo": ("a.jpg", make.photo("meter_label"), "image/jpeg")}
        r = await client.post(f"{url}/photos/meter_label", headers=headers, data=form(headers), files=files)
        assert r.status_code == 404
        api = (await client.get(f"/mobile/v1/installs/{theirs.id}", headers=theirs.who.headers)).json()
        assert api["asset"] is None and api["photos"] == [] and api["state"] == "draft"

    async def test_a_form_without_its_csrf_token_is_refused(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        no_token = {"Cookie": headers["Cookie"]}
        r = await client.post(f"/portal/installs/{d.id}/guide/reading", headers=no_token, data={"value": "1"})
        assert r.status_code == 403
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["reading"] is None
