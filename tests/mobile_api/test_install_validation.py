"""The validation engine through HTTP: the meter reading, the capture time and the EXIF position of
photos, each judged at upload and again at submit (real database, real photo store)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta, timezone

from httpx import AsyncClient
from PIL import Image

from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.catalog import load_catalog
from backend.principal import Role
from tests.factories import ARNHEM, Factory
from tests.helpers.validation import check_of, north_of, submitted
from tests.mobile_api.helpers import (
    Draft,
    codes,
    create,
    enter_reading,
    new_install,
    problem,
    ready_install,
    scan,
    upload,
)

FIVE_KM_NORTH = north_of(ARNHEM, 5000)


async def asset_with_reading(make: Factory, last_reading: float) -> tuple[str, str]:
    """A meter in stock whose last known reading is `last_reading` (serial, signed payload)."""
    serial = f"{load_catalog().types['smart_meter_1p'].serial_prefix}-R{uuid.uuid4().hex[:10].upper()}"
    await repo.insert_assets(
        [
            {
                "serial": serial,
                "asset_type": "smart_meter_1p",
                "status": "in_stock",
                "last_reading": last_reading,
                "created_at": datetime.now(UTC),
            }
        ]
    )
    return serial, qr.sign(serial, make.settings.qr_keys, make.settings.qr_active_key)


def without_exif(data: bytes) -> bytes:
    """The picture re-saved by Pillow without its EXIF block, as some gallery apps do."""
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=90)
    return out.getvalue()


async def ready_with(client: AsyncClient, make: Factory, d: Draft, *, reading: float) -> Draft:
    """Complete an existing draft whose asset is already chosen (d.serial, d.payload)."""
    assert d.payload is not None
    assert (await scan(client, d, d.payload)).status_code == 200
    assert (await client.post(f"{d.url}/location", json=make.fix(), headers=d.who.headers)).status_code == 200
    assert (await enter_reading(client, d, reading)).status_code == 200
    for slot in ("meter_label", "meter_display", "cabinet_overview"):
        data = make.photo(slot, payload=d.payload, serial=d.serial or "")
        assert (await upload(client, d, slot, data)).status_code == 201
    return d


class TestEnterReading:
    async def test_reading_is_recorded_and_no_longer_asked_for(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert ("enter_reading", "reading") in codes(d.view["next_actions"])
        r = await enter_reading(client, d, 4512.7)
        assert r.status_code == 200, r.text
        assert r.json()["reading"] == 4512.7 and r.json()["version"] == d.view["version"] + 1
        assert "enter_reading" not in [code for code, _ in codes(r.json()["next_actions"])]
        assert (await client.get(d.url, headers=d.who.headers)).json()["reading"] == 4512.7

    async def test_a_type_without_a_display_asks_no_reading(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make, "home_battery")
        assert "enter_reading" not in [code for code, _ in codes(d.view["next_actions"])]
        assert d.view["reading"] is None

    async def test_invalid_values_are_bad_requests(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        for body in ({"value": "veel"}, {}, {"value": 1.0, "unit": "kWh"}):
            problem(await client.post(f"{d.url}/reading", json=body, headers=d.who.headers), 400, "request/invalid")
        assert (await client.get(d.url, headers=d.who.headers)).json()["reading"] is None

    async def test_missing_reading_is_asked_for_at_submit(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, reading=None)
        body = await submitted(client, d, "needs_retake")
        reading = check_of(body["checks"], "reading")
        assert reading["status"] == "fail" and reading["user_fixable"] and reading["evidence"]["reading"] is None
        assert codes(body["next_actions"]) == [("enter_reading", "reading"), ("ask_for_help", None)]

    async def test_reading_below_the_last_known_one_asks_to_check_it(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        d.serial, d.payload = await asset_with_reading(make, 5000.0)
        d = await ready_with(client, make, d, reading=4999.5)
        body = await submitted(client, d, "needs_retake", **{"Accept-Language": "en"})
        reading = check_of(body["checks"], "reading")
        assert reading["evidence"] == {"reading": 4999.5, "last_known_reading": 5000.0}
        action = [a for a in body["next_actions"] if a["code"] == "enter_reading"]
        assert len(action) == 1 and "lower than the previous reading" in action[0]["text"]
        # A corrected reading makes that verdict stale; equal to the last known one is fine.
        r = await enter_reading(client, d, 5000.0)
        assert "enter_reading" not in [code for code, _ in codes(r.json()["next_actions"])]
        await submitted(client, d, "approved")

    async def test_negative_reading_asks_for_a_retake(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, reading=-1.0)
        body = await submitted(client, d, "needs_retake")
        assert check_of(body["checks"], "reading")["status"] == "fail"
        assert "lager dan de vorige" in [a for a in body["next_actions"] if a["code"] == "enter_reading"][0]["text"]

    async def test_approval_sets_the_assets_last_reading(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, reading=4512.7)
        await submitted(client, d, "approved")
        asset = await repo.asset_by_serial(d.serial or "")
        assert asset is not None and asset.last_reading == 4512.7 and asset.status == "installed"

    async def test_the_next_install_of_that_meter_cannot_go_back(self, client: AsyncClient, make: Factory) -> None:
        first = await ready_install(client, make, reading=4512.7)
        await submitted(client, first, "approved")
        r = await create(client, first.who, first.ean)  # the same meter on the same connection again
        assert r.status_code == 201, r.text
        again = Draft(
            who=first.who,
            id=r.json()["id"],
            ean=first.ean,
            asset_type="smart_meter_1p",
            serial=first.serial,
            payload=first.payload,
        )
        again = await ready_with(client, make, again, reading=4000.0)
        body = await submitted(client, again, "needs_retake")
        assert check_of(body["checks"], "reading")["evidence"] == {"reading": 4000.0, "last_known_reading": 4512.7}

    async def test_no_reading_once_decided(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await submitted(client, d, "approved")
        problem(await enter_reading(client, d, 9999.0), 409, "install/state-conflict")
        assert (await repo.asset_by_serial(d.serial or "")).last_reading == 4512.7  # type: ignore[union-attr]


class TestCaptureTime:
    async def test_photo_from_a_month_ago_asks_for_a_new_one(self, client: AsyncClient, make: Factory) -> None:
        old = datetime.now(UTC) - timedelta(days=30)
        d = await new_install(client, make)
        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", captured_at=old))
        capture = check_of(r.json()["photo"]["checks"], "capture_time")
        assert capture["status"] == "fail" and capture["user_fixable"]
        assert capture["evidence"]["taken_at"] == old.replace(microsecond=0).isoformat()
        assert ("retake_photo", "cabinet_overview") in codes(r.json()["next_actions"])
        d = await ready_install(client, make, photo_options={"cabinet_overview": {"captured_at": old}})
        body = await submitted(client, d, "needs_retake")
        assert check_of(body["checks"], "capture_time", "cabinet_overview")["status"] == "fail"
        retake = [a for a in body["next_actions"] if a["code"] == "retake_photo"]
        assert [a["subject"] for a in retake] == ["cabinet_overview"]
        assert "eerder gemaakt dan deze installatie" in retake[0]["text"]

    async def test_photo_without_exif_is_uncertain_and_asks_for_a_retake(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make, skip=("meter_display",))
        r = await upload(client, d, "meter_display", without_exif(make.photo("meter_display")))
        assert r.status_code == 201, r.text
        photo = r.json()["photo"]
        assert photo["taken_at"] is None and photo["has_exif_location"] is False
        capture = check_of(photo["checks"], "capture_time")
        assert capture["status"] == "uncertain" and capture["user_fixable"] and "app" in capture["fix"]
        assert "exif_location" not in [c["check"] for c in photo["checks"]]
        body = await submitted(client, d, "needs_retake")
        assert [a["subject"] for a in body["next_actions"] if a["code"] == "retake_photo"] == ["meter_display"]

    async def test_photo_from_the_future_is_suspected_fraud(self, client: AsyncClient, make: Factory) -> None:
        later = datetime.now(UTC) + timedelta(hours=2)
        d = await ready_install(client, make, photo_options={"meter_display": {"captured_at": later}})
        body = await submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        capture = check_of(body["checks"], "capture_time", "meter_display")
        assert capture["status"] == "fail" and not capture["user_fixable"]

    async def test_local_time_with_its_offset_is_fresh(self, client: AsyncClient, make: Factory) -> None:
        local = datetime.now(timezone(timedelta(hours=2))).replace(microsecond=0)
        d = await ready_install(
            client,
            make,
            photo_options={s: {"captured_at": local} for s in ("meter_label", "meter_display", "cabinet_overview")},
        )
        body = await submitted(client, d, "approved")
        taken = [datetime.fromisoformat(p["taken_at"]) for p in body["photos"]]
        assert taken == [local] * 3


class TestExifLocation:
    async def test_photo_taken_five_km_from_the_fix_is_suspected_fraud(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make, skip=("cabinet_overview",))
        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", gps=FIVE_KM_NORTH))
        where = check_of(r.json()["photo"]["checks"], "exif_location")
        assert where["status"] == "fail" and not where["user_fixable"]
        assert 4990 < where["evidence"]["distance_m"] < 5010
        body = await submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        assert check_of(body["checks"], "exif_location", "cabinet_overview")["status"] == "fail"

    async def test_photo_uploaded_before_the_fix_is_judged_at_submit(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        d.serial, d.payload = await make.asset()
        assert (await scan(client, d, d.payload)).status_code == 200
        assert (await enter_reading(client, d, 4512.7)).status_code == 200
        for slot in ("meter_label", "meter_display", "cabinet_overview"):
            gps = FIVE_KM_NORTH if slot == "meter_display" else ARNHEM
            r = await upload(client, d, slot, make.photo(slot, payload=d.payload, serial=d.serial, gps=gps))
            assert "exif_location" not in [c["check"] for c in r.json()["photo"]["checks"]]
        assert (await client.post(f"{d.url}/location", json=make.fix(), headers=d.who.headers)).status_code == 200
        body = await submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        assert check_of(body["checks"], "exif_location", "meter_display")["status"] == "fail"
        assert check_of(body["checks"], "exif_location", "meter_label")["status"] == "pass"

    async def test_photo_near_the_fix_is_approved(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, role=Role.INSTALLER)
        body = await submitted(client, d, "approved")
        assert [c["status"] for c in body["checks"] if c["check"] == "exif_location"] == ["pass"] * 3
