"""GET /mobile/v1/installs/{id} encodes its view itself (bytes, no Litestar re-serialisation, no
dependencies): its answer must stay exactly what the contract's other routes answer for the install."""

from __future__ import annotations

import msgspec
from httpx import AsyncClient

from mobile_api.v1.schemas import InstallView
from tests.factories import Factory
from tests.mobile_api.helpers import BASE, Draft, ready_install, submit

UNREADABLE = {"blur_radius": 12}


async def _both(client: AsyncClient, d: Draft, lang: str) -> tuple[bytes, bytes]:
    """The view as GET answers it, and as the idempotent create (Litestar's own encoding) answers it."""
    headers = {**d.who.headers, "Accept-Language": lang}
    got = await client.get(d.url, headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    assert "accept-language" in got.headers["vary"].lower()
    again = await client.post(
        BASE,
        json={"id": d.id, "connection_ean": d.ean, "asset_type": d.asset_type},
        headers=headers,
    )
    assert again.status_code == 200, again.text
    return got.content, again.content


class TestInstallViewIsTheContract:
    async def test_a_rich_install_reads_the_same_as_through_litestar(self, client: AsyncClient, make: Factory) -> None:
        # Photos with checks, one needing a retake, install-level checks of a submit, a decision.
        d = await ready_install(client, make, photo_options={"meter_label": UNREADABLE})
        r = await submit(client, d)
        assert r.status_code == 200, r.text
        for lang in ("nl", "en"):
            got, reference = await _both(client, d, lang)
            assert got == reference
        view = msgspec.json.decode(got, type=InstallView)  # the contract's Struct, every field
        assert view.decisions and view.next_actions and view.timeline
        assert any(c.status != "pass" for c in view.checks)
        photo_checks = sum(len(p.checks) for p in view.photos)
        assert len(view.checks) > photo_checks  # the submit's install-level checks are listed too

    async def test_each_photo_lists_its_own_checks_and_the_install_lists_them_all(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make, photo_options={"meter_label": UNREADABLE})
        body = (await client.get(d.url, headers=d.who.headers)).json()
        photos = body["photos"]
        assert len(photos) == 3 and all(p["checks"] for p in photos)
        listed = [c for p in photos for c in p["checks"]]
        assert all(c in body["checks"] for c in listed)
        assert {c["subject"] for p in photos for c in p["checks"]} == {p["slot"] for p in photos}
        label = next(p for p in photos if p["slot"] == "meter_label")
        assert any(c["status"] != "pass" for c in label["checks"])
        assert all(c["status"] == "pass" for p in photos if p["slot"] != "meter_label" for c in p["checks"])

    async def test_another_customers_install_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        stranger = make.party(d.who.role)
        r = await client.get(d.url, headers=stranger.headers)
        assert r.status_code == 404 and r.json()["code"] == "install/not-found"
