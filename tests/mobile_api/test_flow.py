"""The whole self-install flow through HTTP, as the README walks it."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory

SLOTS_1P = ("meter_label", "meter_display", "cabinet_overview")


async def _prepared_install(client: AsyncClient, make: Factory, label_payload_in_photo: str | None = None):
    customer = make.party(Role.CUSTOMER)
    ean = await make.connection(owner=customer.subject)
    serial, payload = await make.asset()
    install_id = str(uuid.uuid4())
    r = await client.post(
        "/mobile/v1/installs",
        json={"id": install_id, "connection_ean": ean, "asset_type": "smart_meter_1p"},
        headers=customer.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/mobile/v1/installs/{install_id}/scan", json={"payload": payload}, headers=customer.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/mobile/v1/installs/{install_id}/location", json=make.fix(), headers=customer.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/mobile/v1/installs/{install_id}/reading", json={"value": 4512.7}, headers=customer.headers)
    assert r.status_code == 200, r.text
    for slot in SLOTS_1P:
        photo = make.photo(slot, payload=label_payload_in_photo or payload, serial=serial)
        r = await client.put(
            f"/mobile/v1/installs/{install_id}/photos/{slot}",
            content=photo,
            headers={**customer.headers, "Content-Type": "image/jpeg"},
        )
        assert r.status_code == 201, r.text
    return customer, install_id


class TestHappyPath:
    async def test_clean_install_is_approved(self, client: AsyncClient, make: Factory) -> None:
        customer, install_id = await _prepared_install(client, make)
        r = await client.post(f"/mobile/v1/installs/{install_id}/submit", headers=customer.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["state"] == "approved", [c for c in body["checks"] if c["status"] != "pass"]
        assert body["asset"]["status"] == "installed"
        assert [a["code"] for a in body["next_actions"]] == ["ask_for_help"]  # nothing to do but ask a person
        assert all(c["status"] == "pass" for c in body["checks"])

    async def test_label_of_another_asset_is_not_approved(self, client: AsyncClient, make: Factory) -> None:
        _, other_payload = await make.asset()
        customer, install_id = await _prepared_install(client, make, label_payload_in_photo=other_payload)
        r = await client.post(f"/mobile/v1/installs/{install_id}/submit", headers=customer.headers)
        body = r.json()
        assert body["state"] == "in_review"
        assert body["reasons"] == ["suspected_fraud"]
        label = [c for c in body["checks"] if c["check"] == "label_qr"]
        assert label and label[0]["status"] == "fail"
        assert other_payload in label[0]["evidence"]["decoded"]
        assert "ander apparaat" in label[0]["fix"]

    async def test_help_escalates_with_human_requested(self, client: AsyncClient, make: Factory) -> None:
        customer, install_id = await _prepared_install(client, make)
        r = await client.post(
            f"/mobile/v1/installs/{install_id}/help", json={"message": "Ik twijfel"}, headers=customer.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "in_review"
        assert r.json()["reasons"] == ["human_requested"]
