"""/admin/v1 assets over their life: search (keyset by serial), retire, swap on a connection, and the labels
each QR key signed (GET /admin/v1/labels, /admin/v1/labels/keys) so they are reprinted before a key retires."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from backend.events.tables import OutboxEvent
from backend.installs import repository as repo
from backend.installs.tables import Asset
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party
from tests.mobile_api.helpers import new_install, problem, scan

ASSETS = "/admin/v1/assets"


@pytest.fixture
def admin(make: Factory) -> Party:
    return make.party(Role.ADMIN)


async def _installed(make: Factory, capacity: str = "1x35A") -> tuple[str, str]:
    """(serial, ean): an asset installed at a fresh connection, as an approval leaves it."""
    serial, _ = await make.asset()
    ean = await make.connection(capacity=capacity)
    asset, connection = await repo.asset_by_serial(serial), await repo.connection_by_ean(ean)
    assert asset is not None and connection is not None
    await repo.mark_asset_installed(asset.id, connection.id, datetime.now(UTC), 100.0)
    return serial, ean


async def _retire(client: AsyncClient, who: Party, serial: str) -> httpx.Response:
    return await client.post(f"{ASSETS}/{serial}/retire", json={"reason": "Defect"}, headers=who.headers)


async def _swap(client: AsyncClient, who: Party, serial: str, new_serial: str, **extra: Any) -> httpx.Response:
    body = {"new_serial": new_serial, "reason": "Display defect", **extra}
    return await client.post(f"{ASSETS}/{serial}/swap", json=body, headers=who.headers)


class TestRetire:
    async def test_from_stock_once(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        serial, _ = await make.asset()
        r = await _retire(client, admin, serial)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "retired" and r.json()["retired_at"] is not None
        body = problem(await _retire(client, admin, serial), 409, "asset/state-conflict")
        assert serial in body["detail"]

    async def test_off_its_connection_keeps_where_it_was(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        serial, ean = await _installed(make)
        r = await _retire(client, admin, serial)
        assert r.status_code == 200 and r.json()["ean"] == ean, r.text
        detail = (await client.get(f"/admin/v1/connections/{ean}", headers=admin.headers)).json()
        assert [(a["serial"], a["status"]) for a in detail["assets"]] == [(serial, "retired")]
        assert detail["history"][0]["action"] == "asset.retired"

    async def test_an_asset_an_open_install_scanned_is_in_use(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        assert (await scan(client, d, payload)).status_code == 200
        problem(await _retire(client, admin, serial), 409, "asset/in-use")

    async def test_an_asset_a_live_job_holds_is_in_use(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        serial, _ = await make.asset()
        await make.job(await make.connection(), serial=serial, installer="inst-x")
        problem(await _retire(client, admin, serial), 409, "asset/in-use")
        assert (await repo.asset_by_serial(serial)).status == "in_stock"  # type: ignore[union-attr]

    async def test_unknown_serial_is_404(self, client: AsyncClient, admin: Party) -> None:
        problem(await _retire(client, admin, "MTR1-NOSUCH0001"), 404, "assets/not-found")


class TestSwap:
    async def test_the_old_one_retired_the_new_one_installed_history_kept(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        old, ean = await _installed(make)
        new, _ = await make.asset()
        r = await _swap(client, admin, old, new, reading=0.5)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["retired"]["serial"], body["retired"]["status"], body["retired"]["replaced_by"]) == (
            old,
            "retired",
            new,
        )
        assert (body["installed"]["status"], body["installed"]["ean"], body["installed"]["last_reading"]) == (
            "installed",
            ean,
            0.5,
        )
        detail = (await client.get(f"/admin/v1/connections/{ean}", headers=admin.headers)).json()
        assert [(a["serial"], a["status"]) for a in detail["assets"]] == [(old, "retired"), (new, "installed")]
        assert detail["history"][0]["action"] == "asset.swapped"
        assert detail["history"][0]["detail"]["new_serial"] == new
        rows = await OutboxEvent.select().where(OutboxEvent.event_type == "asset.swapped").output(load_json=True)
        [event] = [r["payload"] for r in rows if r["payload"]["serial"] == old]
        assert event | {"at": None} == {
            "ean": ean,
            "serial": old,
            "asset_type": "smart_meter_1p",
            "new_serial": new,
            "new_asset_type": "smart_meter_1p",
            "reading": 0.5,
            "actor_role": "admin",
            "at": None,
        }

    async def test_impossible_moves_are_409(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        in_stock, _ = await make.asset()
        other, _ = await make.asset()
        problem(await _swap(client, admin, in_stock, other), 409, "asset/state-conflict")  # not installed
        old, _ = await _installed(make)
        installed_elsewhere, _ = await _installed(make)
        problem(await _swap(client, admin, old, installed_elsewhere), 409, "asset/state-conflict")
        assert (await _retire(client, admin, other)).status_code == 200
        problem(await _swap(client, admin, old, other), 409, "asset/state-conflict")  # retired
        assert (await repo.asset_by_serial(old)).status == "installed"  # type: ignore[union-attr]

    async def test_the_new_one_must_fit_the_connection(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        old, _ = await _installed(make, capacity="1x35A")
        three_phase, _ = await make.asset("smart_meter_3p")
        problem(await _swap(client, admin, old, three_phase), 422, "install/capacity-mismatch")

    async def test_refused_while_an_install_at_the_connection_is_open(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        d = await new_install(client, make)
        connection = await repo.connection_by_ean(d.ean)
        old, _ = await make.asset()
        asset = await repo.asset_by_serial(old)
        await repo.mark_asset_installed(asset.id, connection.id, datetime.now(UTC), None)  # type: ignore[union-attr]
        new, _ = await make.asset()
        problem(await _swap(client, admin, old, new), 409, "connection/open-install")


class TestSearch:
    async def test_by_type_and_state_in_serial_order_by_cursor(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        serials = sorted([(await make.asset("home_battery"))[0] for _ in range(3)])
        for serial in serials[:2]:
            assert (await _retire(client, admin, serial)).status_code == 200
        r = await client.get(ASSETS, params={"serial": serials[2]}, headers=admin.headers)
        assert [a["serial"] for a in r.json()["items"]] == [serials[2]]
        seen, cursor = [], None
        params = {"type": "home_battery", "state": "retired", "limit": 1}
        for _ in range(200):
            r = await client.get(
                ASSETS, params={**params, **({"cursor": cursor} if cursor else {})}, headers=admin.headers
            )
            assert r.status_code == 200, r.text
            seen += [a["serial"] for a in r.json()["items"]]
            if (cursor := r.json()["next_cursor"]) is None:
                break
        assert seen == sorted(seen) and set(serials[:2]) <= set(seen) and serials[2] not in seen

    async def test_a_forged_cursor_or_key_id_is_400(self, client: AsyncClient, admin: Party) -> None:
        problem(
            await client.get(ASSETS, params={"cursor": "bm90IGEgc2VyaWFs"}, headers=admin.headers),
            400,
            "request/invalid",
        )
        r = await client.get("/admin/v1/labels", params={"key_id": "k1;drop"}, headers=admin.headers)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")

    async def test_an_unknown_state_is_400(self, client: AsyncClient, admin: Party) -> None:
        r = await client.get(ASSETS, params={"state": "lost"}, headers=admin.headers)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST, Role.SYSTEM])
    async def test_only_admins(self, client: AsyncClient, make: Factory, role: Role) -> None:
        who = make.party(role)
        serial, _ = await make.asset()
        other, _ = await make.asset()
        for path in (ASSETS, "/admin/v1/labels?key_id=K1", "/admin/v1/labels/keys"):
            assert (await client.get(path, headers=who.headers)).status_code == 403, path
        assert (await _retire(client, who, serial)).status_code == 403
        assert (await _swap(client, who, serial, other)).status_code == 403
        assert (await repo.asset_by_serial(serial)).status == "in_stock"  # type: ignore[union-attr]


class TestLabelsByKey:
    async def test_an_import_records_the_active_key(
        self, client: AsyncClient, admin: Party, settings: Settings
    ) -> None:
        serial = f"MTR1-K{datetime.now(UTC).strftime('%H%M%S%f')}"
        r = await client.post(ASSETS, json=[{"serial": serial, "asset_type": "smart_meter_1p"}], headers=admin.headers)
        assert r.status_code == 201, r.text
        r = await client.get(ASSETS, params={"serial": serial}, headers=admin.headers)
        assert r.json()["items"][0]["label_key_id"] == settings.qr_active_key

    async def test_a_retiring_keys_labels_are_listed_until_reprinted(
        self, client: AsyncClient, make: Factory, admin: Party, settings: Settings
    ) -> None:
        serial, _ = await make.asset()
        # Signed with a key no longer configured (rotated out of QR_KEYS before the labels were reprinted).
        await Asset.update({Asset.label_key_id: "K0"}).where(Asset.serial == serial)
        r = await client.get("/admin/v1/labels", params={"key_id": "K0", "limit": 100}, headers=admin.headers)
        assert serial in [a["serial"] for a in r.json()["items"]]
        keys = {k["key_id"]: k for k in (await client.get("/admin/v1/labels/keys", headers=admin.headers)).json()}
        assert keys["K0"]["labels"] >= 1 and not keys["K0"]["configured"] and not keys["K0"]["active"]
        assert keys[settings.qr_active_key]["active"] and keys[settings.qr_active_key]["configured"]
        r = await client.get(f"{ASSETS}/{serial}/label", params={"format": "svg"}, headers=admin.headers)
        assert r.status_code == 409 and r.json()["code"] == "assets/label-not-issued"  # K0 is gone: reprint
        r = await client.post(f"{ASSETS}/{serial}/label", params={"format": "svg"}, headers=admin.headers)
        assert r.status_code == 200
        r = await client.get("/admin/v1/labels", params={"key_id": "K0", "limit": 100}, headers=admin.headers)
        assert serial not in [a["serial"] for a in r.json()["items"]]
        label_key = (await repo.asset_by_serial(serial)).label_key_id  # type: ignore[union-attr]
        assert label_key == settings.qr_active_key

    async def test_the_key_is_required(self, client: AsyncClient, admin: Party) -> None:
        r = await client.get("/admin/v1/labels", headers=admin.headers)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
