"""Assets, labels and connections in the console (issue 13): the admin API's searches, a printable sheet
of labels whose codes verify and whose key is recorded, and search input refused in words."""

from __future__ import annotations

import re
import uuid

import pytest
from httpx import AsyncClient

from backend.installs import qr
from backend.installs.tables import Asset
from backend.principal import Role
from backend.settings import Settings
from tests.console.helpers import console_headers
from tests.factories import Factory


@pytest.fixture
async def admin(client: AsyncClient, make: Factory) -> dict[str, str]:
    return await console_headers(client, make, Role.ADMIN)


class TestAssets:
    async def test_search_by_serial_in_words(self, client: AsyncClient, make: Factory, admin: dict[str, str]) -> None:
        serial, _ = await make.asset()
        page = await client.get(f"/console/assets?serial={serial}", headers=admin)
        assert page.status_code == 200, page.text
        assert page.text.count('<tr id="asset-') == 1 and f'id="asset-{serial}"' in page.text
        assert "op voorraad" in page.text and "slimme meter (1-fase)" in page.text and "nog niet gedrukt" in page.text
        assert "in_stock" not in page.text.replace('value="in_stock"', "")  # a code only as a form value

    async def test_by_type_and_status(self, client: AsyncClient, make: Factory, admin: dict[str, str]) -> None:
        battery, _ = await make.asset("home_battery", status="retired")
        page = await client.get("/console/assets?asset_type=home_battery&status=retired", headers=admin)
        rows = re.findall(r'<tr id="asset-([^"]+)"', page.text)
        assert battery in rows or 'id="next-page"' in page.text
        assert all(r.startswith("BAT5-") for r in rows)

    async def test_a_search_that_cannot_match_is_said(self, client: AsyncClient, admin: dict[str, str]) -> None:
        page = await client.get("/console/assets?serial=lower-case&key_id=toolongkey", headers=admin)
        assert page.status_code == 200 and "Geen apparaten gevonden." in page.text
        assert "Een serienummer is 3-39 hoofdletters" in page.text and "Een sleutel is 1-8" in page.text


class TestLabelSheet:
    async def test_a_sheet_of_the_chosen_assets(
        self, client: AsyncClient, make: Factory, admin: dict[str, str], settings: Settings
    ) -> None:
        serials = [(await make.asset())[0] for _ in range(2)]
        r = await client.post("/console/assets/labels.svg", data={"serial": serials}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert r.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" width="210mm"')
        assert all(s.encode() in r.content for s in serials) and b"slimme meter (1-fase)" in r.content
        assert "default-src 'none'" in r.headers["content-security-policy"]  # an SVG that runs nothing
        rows = await Asset.select(Asset.serial, Asset.label_key_id).where(Asset.serial.is_in(serials))
        assert {r["label_key_id"] for r in rows} == {settings.qr_active_key}  # reprint bookkeeping
        page = await client.get(f"/console/assets?serial={serials[0]}", headers=admin)
        assert f"sleutel {settings.qr_active_key}" in page.text
        keys = await client.get("/console/assets/keys", headers=admin)
        row = re.search(rf'<tr id="key-{settings.qr_active_key}">(.*?)</tr>', keys.text, re.S)
        assert row is not None and "tekent nieuwe etiketten" in row.group(1)
        assert int(re.findall(r"<td>(\d+)</td>", row.group(1))[0]) >= 2

    async def test_an_unknown_serial_prints_nothing(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        known, _ = await make.asset()
        r = await client.post("/console/assets/labels.svg", data={"serial": [known, "MTR1-NOPE0001"]}, headers=admin)
        assert r.status_code == 404 and "Apparaat &#39;MTR1-NOPE0001&#39; is niet gevonden." in r.text
        assert (await Asset.select(Asset.label_key_id).where(Asset.serial == known))[0]["label_key_id"] is None

    async def test_one_sheet_at_most(self, client: AsyncClient, admin: dict[str, str]) -> None:
        serials = [f"MTR1-T{n:08d}" for n in range(qr.SHEET_SIZE + 1)]
        r = await client.post("/console/assets/labels.svg", data={"serial": serials}, headers=admin)
        assert r.status_code == 422 and f"Kies 1 tot {qr.SHEET_SIZE} apparaten" in r.text

    @pytest.mark.parametrize("serial", ["MTR1\x00X", "\x1b[31m", ""])
    async def test_a_hostile_serial_is_refused_in_words(
        self, client: AsyncClient, admin: dict[str, str], serial: str
    ) -> None:
        r = await client.post("/console/assets/labels.svg", data={"serial": [serial]}, headers=admin)
        assert r.status_code == 422 and "<svg" not in r.text and 'class="flash error"' in r.text

    async def test_a_get_prints_and_records_nothing(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        """Printing issues labels (their key is recorded): only the POST form does, never a link or a GET."""
        serial, _ = await make.asset()
        r = await client.get(f"/console/assets/labels.svg?serial={serial}", headers=admin)
        assert r.status_code == 405 and "<svg" not in r.text
        assert (await Asset.select(Asset.label_key_id).where(Asset.serial == serial))[0]["label_key_id"] is None
        without_token = {k: v for k, v in admin.items() if k != "x-csrftoken"}
        r = await client.post("/console/assets/labels.svg", data={"serial": [serial]}, headers=without_token)
        assert r.status_code == 403 and "<svg" not in r.text  # the form's CSRF token is required
        assert (await Asset.select(Asset.label_key_id).where(Asset.serial == serial))[0]["label_key_id"] is None


class TestConnections:
    async def test_by_ean_and_by_address(self, client: AsyncClient, make: Factory, admin: dict[str, str]) -> None:
        ean = await make.connection(postcode="6811AL", house_number=77)
        page = await client.get(f"/console/connections?ean={ean}", headers=admin)
        assert page.text.count('<tr id="connection-') == 1 and "Jansbinnensingel 77, 6811AL Arnhem" in page.text
        page = await client.get("/console/connections?postcode=6811+al&house_number=77", headers=admin)
        assert f'id="connection-{ean}"' in page.text or 'id="next-page"' in page.text

    async def test_a_house_number_alone_is_no_search(self, client: AsyncClient, admin: dict[str, str]) -> None:
        page = await client.get("/console/connections?house_number=14", headers=admin)
        assert page.status_code == 400 and "alleen samen met een postcode" in page.text

    async def test_a_customers_connections_page_by_cursor(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        owner = f"cust-{uuid.uuid4().hex[:8]}"
        eans = sorted([await make.connection(owner=owner) for _ in range(26)])
        first = await client.get(f"/console/connections?owner={owner}", headers=admin)
        assert re.findall(r'<tr id="connection-(\d+)"', first.text) == eans[:25]
        link = re.search(r'id="next-page" href="([^"]+)"', first.text)
        assert link is not None
        second = await client.get(link.group(1).replace("&amp;", "&"), headers=admin)
        assert re.findall(r'<tr id="connection-(\d+)"', second.text) == eans[25:]


class TestHostileQueries:
    @pytest.mark.parametrize(
        "query",
        [
            "/console/assets?serial=MTR1%00X",
            "/console/assets?key_id=%1b%5b31m",
            "/console/assets?status=../../x&asset_type=%00",
            "/console/connections?house_number=99999999999999&postcode=6811AL",
            "/console/connections?owner=" + "x" * 500,
            "/console/connections?ean=87168700000000005%00",
        ],
    )
    async def test_refused_in_words_never_a_500(self, client: AsyncClient, admin: dict[str, str], query: str) -> None:
        r = await client.get(query, headers=admin)
        assert r.status_code < 500 and "<svg" not in r.text
        if r.status_code == 400:  # a NUL in the request target: refused before any route (backend/http_guard.py)
            assert 'data-code="request/invalid-encoding"' in r.text and "text/html" in r.headers["content-type"]
        else:
            assert 'class="flash error"' in r.text

    @pytest.mark.parametrize("path", ["/console/assets", "/console/connections", "/console/jobs", "/console/outbox"])
    async def test_a_forged_cursor_is_a_400(self, client: AsyncClient, admin: dict[str, str], path: str) -> None:
        r = await client.get(f"{path}?cursor=__4", headers=admin)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")  # a page in words
        assert 'data-code="request/invalid"' in r.text and "/console/" in r.text  # and the way back
        r = await client.get(f"{path}?cursor=__4", headers={**admin, "Accept": "application/problem+json"})
        assert r.status_code == 400 and r.json()["code"] == "request/invalid"  # a script asking for it
