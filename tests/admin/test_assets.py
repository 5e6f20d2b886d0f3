"""/admin/v1/assets: warehouse batches (all rows or none) and printable QR labels."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
import zxingcpp
from httpx import AsyncClient
from PIL import Image

from backend.installs import qr
from backend.installs import repository as repo
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party

ASSETS = "/admin/v1/assets"


def _serial(prefix: str = "MTR1") -> str:
    return f"{prefix}-A{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def admin(make: Factory) -> Party:
    return make.party(Role.ADMIN)


async def _post_json(client: AsyncClient, who: Party, rows: list[dict[str, str]]) -> httpx.Response:
    return await client.post(ASSETS, json=rows, headers=who.headers)


async def _post_csv(client: AsyncClient, who: Party, text: str, content_type: str = "text/csv") -> httpx.Response:
    return await client.post(ASSETS, content=text.encode(), headers={**who.headers, "Content-Type": content_type})


async def _stored(serials: list[str]) -> dict[str, Any]:
    return {a.serial: a for a in await repo.assets_by_serials(serials)}


def _problem(r: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert r.json()["code"] == code
    return r.json()


def _batch_errors(r: httpx.Response) -> list[dict[str, Any]]:
    """The bad lines of a refused batch; each has its line, field, kind and a Dutch sentence."""
    body = _problem(r, 422, "assets/invalid-batch")
    for error in body["errors"]:
        assert error["message"].startswith(f"regel {error['line']}: "), error
        assert error["message"] in body["detail"] or len(body["errors"]) > 5
    return body["errors"]


async def _assert_nothing_stored(client: AsyncClient, admin: Party, serials: list[str]) -> None:
    assert await _stored(serials) == {}
    for serial in serials:
        r = await client.get(f"{ASSETS}/{serial}/label", headers=admin.headers)
        _problem(r, 404, "assets/not-found")


class TestJsonImport:
    async def test_new_assets_are_201_with_verifiable_payloads(
        self, client: AsyncClient, admin: Party, settings: Settings
    ) -> None:
        rows = [
            {"serial": _serial(), "asset_type": "smart_meter_1p"},
            {"serial": _serial("BAT5"), "asset_type": "home_battery"},
        ]
        r = await _post_json(client, admin, rows)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["created"] == 2 and body["unchanged"] == 0
        assert [(a["serial"], a["asset_type"]) for a in body["assets"]] == [
            (x["serial"], x["asset_type"]) for x in rows
        ]
        for asset in body["assets"]:
            assert asset["status"] == "in_stock" and asset["created"] is True
            assert qr.verify(asset["payload"], settings.qr_keys).serial == asset["serial"]
        stored = await _stored([x["serial"] for x in rows])
        assert {s: (a.asset_type, a.status) for s, a in stored.items()} == {
            x["serial"]: (x["asset_type"], "in_stock") for x in rows
        }

    async def test_reimport_is_200_and_changes_nothing(self, client: AsyncClient, admin: Party) -> None:
        rows = [
            {"serial": _serial(), "asset_type": "smart_meter_1p"},
            {"serial": _serial(), "asset_type": "smart_meter_1p"},
        ]
        first = await _post_json(client, admin, rows)
        assert first.status_code == 201, first.text
        before = await _stored([x["serial"] for x in rows])
        again = await _post_json(client, admin, rows)
        assert again.status_code == 200, again.text
        assert again.json()["created"] == 0 and again.json()["unchanged"] == 2
        assert [a["payload"] for a in again.json()["assets"]] == [a["payload"] for a in first.json()["assets"]]
        assert all(a["created"] is False for a in again.json()["assets"])
        assert await _stored([x["serial"] for x in rows]) == before

    async def test_reimport_keeps_status_of_a_retired_asset(
        self, client: AsyncClient, admin: Party, make: Factory
    ) -> None:
        serial, _ = await make.asset("smart_meter_1p", status="retired")
        r = await _post_json(client, admin, [{"serial": serial, "asset_type": "smart_meter_1p"}])
        assert r.status_code == 200, r.text
        assert r.json()["assets"][0]["status"] == "retired"
        assert (await _stored([serial]))[serial].status == "retired"

    async def test_mixed_batch_creates_only_the_new_ones(
        self, client: AsyncClient, admin: Party, make: Factory
    ) -> None:
        known, _ = await make.asset("smart_meter_1p")
        new = _serial()
        r = await _post_json(
            client,
            admin,
            [{"serial": known, "asset_type": "smart_meter_1p"}, {"serial": new, "asset_type": "smart_meter_1p"}],
        )
        assert r.status_code == 201, r.text
        assert r.json()["created"] == 1 and r.json()["unchanged"] == 1
        assert [a["created"] for a in r.json()["assets"]] == [False, True]


class TestCsvImport:
    @pytest.mark.parametrize("content_type", ["text/csv", "text/csv; charset=utf-8"])
    async def test_csv_batch_is_imported(
        self, client: AsyncClient, admin: Party, settings: Settings, content_type: str
    ) -> None:
        serials = [_serial(), _serial("BAT5")]
        text = f"serial,asset_type\n{serials[0]},smart_meter_1p\n{serials[1]},home_battery\n"
        r = await _post_csv(client, admin, text, content_type)
        assert r.status_code == 201, r.text
        assert r.json()["created"] == 2
        assert [qr.verify(a["payload"], settings.qr_keys).serial for a in r.json()["assets"]] == serials
        assert set(await _stored(serials)) == set(serials)

    async def test_bad_row_at_line_3_rejects_the_whole_batch(self, client: AsyncClient, admin: Party) -> None:
        good = [_serial(), _serial()]
        text = f"serial,asset_type\n{good[0]},smart_meter_1p\nnot a serial,smart_meter_1p\n{good[1]},smart_meter_1p\n"
        errors = _batch_errors(await _post_csv(client, admin, text))
        assert [(e["line"], e["field"], e["kind"]) for e in errors] == [(3, "serial", "serial-form")]
        await _assert_nothing_stored(client, admin, good)

    async def test_missing_header_is_line_1(self, client: AsyncClient, admin: Party) -> None:
        serial = _serial()
        errors = _batch_errors(await _post_csv(client, admin, f"{serial},smart_meter_1p\n"))
        assert [(e["line"], e["kind"]) for e in errors] == [(1, "header")]
        await _assert_nothing_stored(client, admin, [serial])


class TestInvalidBatch:
    async def test_duplicate_serial_within_batch(self, client: AsyncClient, admin: Party) -> None:
        serial, other = _serial(), _serial()
        rows = [
            {"serial": serial, "asset_type": "smart_meter_1p"},
            {"serial": other, "asset_type": "smart_meter_1p"},
            {"serial": serial, "asset_type": "smart_meter_1p"},
        ]
        errors = _batch_errors(await _post_json(client, admin, rows))
        assert [(e["line"], e["kind"]) for e in errors] == [(3, "repeated-serial")]
        assert "staat ook op regel 1" in errors[0]["message"]
        await _assert_nothing_stored(client, admin, [serial, other])

    async def test_unknown_asset_type(self, client: AsyncClient, admin: Party) -> None:
        good, bad = _serial(), _serial()
        rows = [{"serial": good, "asset_type": "smart_meter_1p"}, {"serial": bad, "asset_type": "toaster"}]
        errors = _batch_errors(await _post_json(client, admin, rows))
        assert [(e["line"], e["field"], e["kind"]) for e in errors] == [(2, "asset_type", "unknown-asset-type")]
        assert "toaster" in errors[0]["message"]
        await _assert_nothing_stored(client, admin, [good, bad])

    async def test_known_serial_with_another_type(self, client: AsyncClient, admin: Party, make: Factory) -> None:
        known, _ = await make.asset("smart_meter_1p")
        new = _serial()
        rows = [{"serial": new, "asset_type": "smart_meter_1p"}, {"serial": known, "asset_type": "home_battery"}]
        errors = _batch_errors(await _post_json(client, admin, rows))
        assert [(e["line"], e["kind"]) for e in errors] == [(2, "known-as-other-type")]
        await _assert_nothing_stored(client, admin, [new])
        assert (await _stored([known]))[known].asset_type == "smart_meter_1p"

    @pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
    async def test_other_content_type_is_415(self, client: AsyncClient, admin: Party, content_type: str) -> None:
        serial = _serial()
        r = await _post_csv(client, admin, f"serial,asset_type\n{serial},smart_meter_1p\n", content_type)
        _problem(r, 415, None)
        await _assert_nothing_stored(client, admin, [serial])

    @pytest.mark.parametrize(
        "row",
        [
            {"serial": "MTR1-MISSINGTYPE"},
            {"serial": "MTR1-" + "X" * 40, "asset_type": "smart_meter_1p"},
            {"serial": "MTR1-EXTRAFIELD", "asset_type": "smart_meter_1p", "status": "x"},
        ],
        ids=["missing-field", "serial-too-long", "unknown-field"],
    )
    async def test_malformed_json_row_is_reported_by_its_position(
        self, client: AsyncClient, admin: Party, row: dict[str, str]
    ) -> None:
        good = _serial()
        errors = _batch_errors(await _post_json(client, admin, [{"serial": good, "asset_type": "smart_meter_1p"}, row]))
        assert [e["line"] for e in errors] == [2], errors
        assert errors[0]["kind"] in ("missing", "too-long", "unknown-field")
        assert "Expected" not in errors[0]["message"] and "Object" not in errors[0]["message"]  # no msgspec English
        await _assert_nothing_stored(client, admin, [good])

    @pytest.mark.parametrize(
        "content_type, body",
        [
            ("application/json", b'[{"serial": '),
            ("text/csv", "serial,asset_type\nMTR1-\u00c4\u00c4,x\n".encode("latin-1")),
        ],
        ids=["truncated-json", "csv-not-utf8"],
    )
    async def test_undecodable_body_is_400_request_invalid(
        self, client: AsyncClient, admin: Party, content_type: str, body: bytes
    ) -> None:
        """request/invalid is 400 everywhere else in the API; one code, one status."""
        r = await client.post(ASSETS, content=body, headers={**admin.headers, "Content-Type": content_type})
        detail = _problem(r, 400, "request/invalid")["detail"]
        assert ("JSON-lijst" if content_type == "application/json" else "UTF-8") in detail  # said in Dutch
        english = await client.post(
            ASSETS, content=body, headers={**admin.headers, "Content-Type": content_type, "Accept-Language": "en"}
        )
        assert ("JSON list" if content_type == "application/json" else "must be UTF-8") in english.json()["detail"]


class TestAccess:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST])
    async def test_non_admin_may_not_import(self, client: AsyncClient, make: Factory, role: Role) -> None:
        serial = _serial()
        r = await _post_json(client, make.party(role), [{"serial": serial, "asset_type": "smart_meter_1p"}])
        _problem(r, 403, "auth/forbidden")
        assert await _stored([serial]) == {}

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST])
    async def test_non_admin_may_not_print_labels(self, client: AsyncClient, make: Factory, role: Role) -> None:
        serial, _ = await make.asset()
        r = await client.get(f"{ASSETS}/{serial}/label", headers=make.party(role).headers)
        _problem(r, 403, "auth/forbidden")
        r = await client.post(f"{ASSETS}/{serial}/label", headers=make.party(role).headers)
        _problem(r, 403, "auth/forbidden")
        assert (await repo.asset_by_serial(serial)).label_key_id is None  # type: ignore[union-attr]

    async def test_without_token_is_401(self, client: AsyncClient) -> None:
        r = await client.post(ASSETS, json=[{"serial": _serial(), "asset_type": "smart_meter_1p"}])
        _problem(r, 401, "auth/unauthenticated")


class TestLabel:
    async def test_png_label_decodes_to_the_signed_payload(
        self, client: AsyncClient, admin: Party, make: Factory
    ) -> None:
        serial, payload = await make.asset("home_battery")
        r = await client.post(f"{ASSETS}/{serial}/label", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/png" and r.content.startswith(b"\x89PNG\r\n\x1a\n")
        decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))]
        assert decoded == [payload]

    async def test_png_is_the_default_and_explicit_format_matches(
        self, client: AsyncClient, admin: Party, make: Factory
    ) -> None:
        serial, _ = await make.asset()
        default = await client.post(f"{ASSETS}/{serial}/label", headers=admin.headers)
        explicit = await client.post(f"{ASSETS}/{serial}/label?format=png", headers=admin.headers)
        assert explicit.status_code == 200 and explicit.content == default.content

    async def test_svg_label(self, client: AsyncClient, admin: Party, make: Factory) -> None:
        serial, _ = await make.asset()
        r = await client.post(f"{ASSETS}/{serial}/label?format=svg", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert r.text.startswith("<?xml") or "<svg" in r.text
        assert "<path" in r.text

    async def test_unknown_serial_is_404(self, client: AsyncClient, admin: Party) -> None:
        serial = _serial()
        body = _problem(await client.post(f"{ASSETS}/{serial}/label", headers=admin.headers), 404, "assets/not-found")
        assert serial in body["detail"]
        _problem(await client.get(f"{ASSETS}/{serial}/label", headers=admin.headers), 404, "assets/not-found")

    async def test_imported_asset_label_matches_import_payload(self, client: AsyncClient, admin: Party) -> None:
        serial = _serial()
        imported = await _post_json(client, admin, [{"serial": serial, "asset_type": "smart_meter_1p"}])
        payload = imported.json()["assets"][0]["payload"]
        r = await client.get(f"{ASSETS}/{serial}/label", headers=admin.headers)  # issued at import: read again
        assert [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))] == [payload]

    async def test_reading_a_label_writes_nothing_and_issuing_records_its_key(
        self, client: AsyncClient, admin: Party, make: Factory, settings: Settings
    ) -> None:
        """GET is read-only: a label never issued is 409 (nothing recorded, however often it is read); the
        POST issues it with the active key and records that key; GET then serves the same label again."""
        serial, payload = await make.asset()
        for _ in range(2):
            r = await client.get(f"{ASSETS}/{serial}/label", headers=admin.headers)
            _problem(r, 409, "assets/label-not-issued")
        asset = await repo.asset_by_serial(serial)
        assert asset is not None and (asset.label_key_id, asset.label_issued_at) == (None, None)
        issued = await client.post(f"{ASSETS}/{serial}/label", params={"format": "svg"}, headers=admin.headers)
        assert issued.status_code == 200, issued.text
        asset = await repo.asset_by_serial(serial)
        assert asset is not None and asset.label_key_id == settings.qr_active_key
        again = await client.get(f"{ASSETS}/{serial}/label", params={"format": "svg"}, headers=admin.headers)
        assert again.status_code == 200 and again.content == issued.content
        unchanged = await repo.asset_by_serial(serial)
        assert unchanged is not None and unchanged.label_issued_at == asset.label_issued_at
        r = await client.get(f"{ASSETS}/{serial}/label", headers=admin.headers)
        assert [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))] == [payload]
