"""Fraud signals through HTTP: a photo reused from another install, and location fixes that no real
phone reports (repeated or perfectly accurate). Split from test_install_validation.py for size."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from httpx import AsyncClient

from backend.installs import repository as repo
from tests.factories import Factory
from tests.helpers.validation import check_of, reencoded, submitted
from tests.mobile_api.helpers import Draft, locate, ready_install, submit, upload

SLOT = "cabinet_overview"  # no QR label, so only the reuse check tells the photos apart


async def stored_reuse(install_id: str, slot: str = SLOT) -> list[dict[str, Any]]:
    """The private evidence of the newest reuse check on the slot's photo, as a specialist sees it."""
    photos = {p.id: p.slot for p in await repo.photos_of(uuid.UUID(install_id))}
    checks = [
        c
        for c in await repo.checks_of(uuid.UUID(install_id))
        if c.check_name == "reuse" and photos.get(c.photo) == slot
    ]
    assert checks, "no reuse check stored"
    return checks[-1].evidence["matches"]


async def first_install_with(client: AsyncClient, make: Factory, data: bytes) -> Draft:
    d = await ready_install(client, make, skip=(SLOT,))
    r = await upload(client, d, SLOT, data)
    assert r.status_code == 201, r.text
    return d


class TestPhotoReuse:
    async def test_same_bytes_in_another_customers_install_is_suspected_fraud(
        self, client: AsyncClient, make: Factory
    ) -> None:
        data = make.photo(SLOT)
        first = await first_install_with(client, make, data)
        second = await ready_install(client, make, skip=(SLOT,))
        r = await upload(client, second, SLOT, data)
        assert r.status_code == 201, r.text  # a new photo of this install, not a retry
        reuse = check_of(r.json()["photo"]["checks"], "reuse")
        assert reuse["status"] == "fail" and not reuse["user_fixable"]
        matches = reuse["evidence"]["matches"]
        assert isinstance(matches, int) and not isinstance(matches, bool) and matches >= 1
        assert reuse["evidence"]["max_hamming"] == 3 and reuse["evidence"]["max_fingerprint_distance"] == 24
        assert first.id not in r.text
        private = await stored_reuse(second.id)
        assert len(private) == matches
        assert {"install_id": first.id, "exact": True, "distance": 0} in [
            {k: m[k] for k in ("install_id", "exact", "distance")} for m in private
        ]

        body = await submitted(client, second, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        assert isinstance(check_of(body["checks"], "reuse", SLOT)["evidence"]["matches"], int)
        view = await client.get(second.url, headers={**second.who.headers, "Accept-Language": "en"})
        assert first.id not in view.text
        photo = [p for p in view.json()["photos"] if p["slot"] == SLOT][0]
        assert check_of(photo["checks"], "reuse")["evidence"]["matches"] == matches

    async def test_a_resized_recompressed_copy_is_caught(self, client: AsyncClient, make: Factory) -> None:
        original = make.photo(SLOT)
        first = await first_install_with(client, make, original)
        second = await ready_install(client, make, skip=(SLOT,))
        r = await upload(client, second, SLOT, reencoded(original))
        assert r.status_code == 201, r.text
        assert r.json()["photo"]["width"] == 1440
        assert check_of(r.json()["photo"]["checks"], "reuse")["status"] == "fail"
        ours = [m for m in await stored_reuse(second.id) if m["install_id"] == first.id]
        assert len(ours) == 1 and ours[0]["exact"] is False
        assert ours[0]["distance"] <= 3 and ours[0]["fingerprint_distance"] <= 24
        body = await submitted(client, second, "in_review")
        assert body["reasons"] == ["suspected_fraud"]

    async def test_a_different_picture_is_not_caught(self, client: AsyncClient, make: Factory) -> None:
        first = await first_install_with(client, make, make.photo(SLOT))
        second = await ready_install(client, make, skip=(SLOT,))
        r = await upload(client, second, SLOT, make.photo(SLOT))  # a fresh seed: another picture
        assert r.status_code == 201, r.text
        assert first.id not in [m["install_id"] for m in await stored_reuse(second.id)]

    async def test_two_customers_with_similar_cabinets_are_not_reuse(self, client: AsyncClient, make: Factory) -> None:
        # Distinct close-ups of the same meter model (other framing, rotation, wall) whose 64-bit
        # hashes collide; see tests/validation/test_photo.py TestDifferenceHash.
        first = await ready_install(client, make, skip=("meter_display",))
        assert (await upload(client, first, "meter_display", make.photo("meter_display", seed=1017))).status_code == 201
        second = await ready_install(client, make, skip=("meter_display",))
        r = await upload(client, second, "meter_display", make.photo("meter_display", seed=1132))
        assert r.status_code == 201, r.text
        assert first.id not in [m["install_id"] for m in await stored_reuse(second.id, "meter_display")]
        await submitted(client, second, "approved")

    async def test_the_same_picture_in_two_slots_of_one_install_is_not_reuse(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make, skip=(SLOT, "meter_display"))
        data = make.photo(SLOT)
        assert (await upload(client, d, "meter_display", data)).status_code == 201
        assert (await upload(client, d, SLOT, data)).status_code == 201
        assert d.id not in [m["install_id"] for m in await stored_reuse(d.id)]


def fix_at(captured_at: datetime, **values: Any) -> dict[str, Any]:
    return {
        "lat": 51.98371,
        "lon": 5.90561,
        "accuracy_m": 7.5,
        "captured_at": captured_at.isoformat(),
        "provider": "gps",
        **values,
    }


class TestLocationSignals:
    async def test_the_same_fix_sent_twice_is_one_fix(self, client: AsyncClient, make: Factory) -> None:
        fix = fix_at(datetime.now(UTC))
        d = await ready_install(client, make, fix=fix)
        before = (await client.get(d.url, headers=d.who.headers)).json()
        r = await locate(client, d, fix)  # an offline retry
        assert r.status_code == 200, r.text
        assert r.json()["version"] == before["version"] and r.json()["location"] == before["location"]
        assert len(await repo.fixes_of(uuid.UUID(d.id))) == 1
        body = await submitted(client, d, "approved")
        assert check_of(body["checks"], "location")["evidence"]["repeated_fixes"] is False

    async def test_a_retry_with_a_local_time_offset_is_one_fix(self, client: AsyncClient, make: Factory) -> None:
        fix = fix_at(datetime.now(timezone(timedelta(hours=2))).replace(microsecond=123000))
        d = await ready_install(client, make, fix=fix)
        assert (await locate(client, d, fix)).status_code == 200
        assert len(await repo.fixes_of(uuid.UUID(d.id))) == 1
        await submitted(client, d, "approved")

    async def test_identical_fixes_at_different_times_are_suspected_fraud(
        self, client: AsyncClient, make: Factory
    ) -> None:
        now = datetime.now(UTC)
        d = await ready_install(client, make, fix=fix_at(now - timedelta(minutes=4)))
        assert (await locate(client, d, fix_at(now))).status_code == 200
        assert len(await repo.fixes_of(uuid.UUID(d.id))) == 2
        body = await submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        location = check_of(body["checks"], "location")
        assert location["status"] == "fail" and location["evidence"]["repeated_fixes"] is True

    async def test_a_moving_fix_is_not_repeated(self, client: AsyncClient, make: Factory) -> None:
        now = datetime.now(UTC)
        d = await ready_install(client, make, fix=fix_at(now - timedelta(minutes=4)))
        assert (await locate(client, d, fix_at(now, lat=51.98372, accuracy_m=6.0))).status_code == 200
        body = await submitted(client, d, "approved")
        assert check_of(body["checks"], "location")["evidence"]["repeated_fixes"] is False

    async def test_perfect_accuracy_is_suspected_fraud(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(accuracy_m=0))
        body = await submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        location = check_of(body["checks"], "location")
        assert location["status"] == "fail" and location["evidence"]["accuracy_m"] == 0

    async def test_a_repeat_cannot_be_hidden_behind_a_retake(self, client: AsyncClient, make: Factory) -> None:
        now = datetime.now(UTC)
        d = await ready_install(client, make, fix=fix_at(now - timedelta(minutes=4)), skip=(SLOT,))
        await submitted(client, d, "needs_retake")
        assert (await locate(client, d, fix_at(now))).status_code == 200
        assert (await upload(client, d, SLOT, make.photo(SLOT))).status_code == 201
        r = await submit(client, d)
        assert r.json()["state"] == "in_review" and r.json()["reasons"] == ["suspected_fraud"]
