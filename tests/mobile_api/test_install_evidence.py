"""/mobile/v1/installs/{id}/location and /photos: what evidence is accepted, how it is checked and served."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from httpx import AsyncClient
from PIL import Image

from backend.principal import Role
from tests.factories import ARNHEM, Factory
from tests.helpers.photo_store import has_rendition
from tests.mobile_api.helpers import Draft, codes, locate, new_install, problem, upload

MiB = 1024 * 1024


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 30, 30)).save(out, format="GIF")
    return out.getvalue()


async def _view(client: AsyncClient, d: Draft) -> dict:
    r = await client.get(d.url, headers=d.who.headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestReportLocation:
    async def test_fix_is_recorded(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        fix = make.fix(accuracy_m=12.5, provider="fused")
        r = await locate(client, d, fix)
        assert r.status_code == 200, r.text
        location = r.json()["location"]
        assert (location["lat"], location["lon"], location["accuracy_m"]) == (*ARNHEM, 12.5)
        assert (location["provider"], location["mocked"]) == ("fused", False)
        assert datetime.fromisoformat(location["captured_at"]) == datetime.fromisoformat(fix["captured_at"])
        assert "share_location" not in [a["code"] for a in r.json()["next_actions"]]

    async def test_out_of_range_naive_or_incomplete_fixes_are_bad_requests(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        bad = [
            make.fix(lat=91.0),
            make.fix(lon=-180.5),
            make.fix(accuracy_m=-1.0),
            {**make.fix(), "captured_at": "2026-11-29T10:15:00"},
            {**make.fix(), "provider": "carrier-pigeon"},
            {k: v for k, v in make.fix().items() if k != "captured_at"},
        ]
        for fix in bad:
            problem(await locate(client, d, fix), 400, "request/invalid")
        assert (await _view(client, d))["location"] is None


class TestUploadPhoto:
    async def test_upload_is_checked_at_once(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        assert (await client.post(f"{d.url}/scan", json={"payload": payload}, headers=d.who.headers)).is_success
        data = make.photo("meter_label", payload=payload, serial=serial)
        r = await upload(client, d, "meter_label", data)
        assert r.status_code == 201, r.text
        body = r.json()
        photo = body["photo"]
        assert (photo["slot"], photo["content_type"], photo["width"], photo["height"]) == (
            "meter_label",
            "image/jpeg",
            1600,
            1200,
        )
        assert photo["size_bytes"] == len(data) and photo["has_exif_location"] is True
        assert photo["taken_at"] is not None and photo["url"] == f"{d.url}/photos/{photo['id']}"
        checks = {c["check"]: c for c in photo["checks"]}
        assert checks["resolution"]["status"] == "pass"
        assert checks["label_qr"]["status"] == "pass" and checks["label_qr"]["evidence"]["decoded"] == [payload]
        assert body["state"] == "draft"
        assert ("upload_photo", "meter_label") not in codes(body["next_actions"])
        assert ("upload_photo", "meter_display") in codes(body["next_actions"])

    async def test_small_photo_fails_resolution_and_asks_for_a_retake(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", size=(600, 450)))
        assert r.status_code == 201, r.text
        resolution = [c for c in r.json()["photo"]["checks"] if c["check"] == "resolution"]
        assert resolution[0]["status"] == "fail" and resolution[0]["evidence"]["short_side_px"] == 450
        assert ("retake_photo", "cabinet_overview") in codes(r.json()["next_actions"])

    async def test_same_bytes_again_is_the_same_photo(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo("cabinet_overview")
        first = await upload(client, d, "cabinet_overview", data)
        again = await upload(client, d, "cabinet_overview", data)
        assert (first.status_code, again.status_code) == (201, 200), again.text
        assert again.json()["photo"]["id"] == first.json()["photo"]["id"]
        assert again.json()["photo"]["checks"] == first.json()["photo"]["checks"]
        photos = (await _view(client, d))["photos"]
        assert [p["id"] for p in photos] == [first.json()["photo"]["id"]]

    async def test_same_bytes_sent_concurrently_is_one_photo(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo("cabinet_overview")
        replies = await asyncio.gather(*(upload(client, d, "cabinet_overview", data) for _ in range(3)))
        assert sorted(r.status_code for r in replies) == [200, 200, 201], [r.text for r in replies]
        ids = {r.json()["photo"]["id"] for r in replies}
        assert len(ids) == 1
        assert [p["id"] for p in (await _view(client, d))["photos"]] == list(ids)

    async def test_label_photo_taken_before_the_scan_is_compared_after_it(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        r = await upload(client, d, "meter_label", make.photo("meter_label", payload=payload, serial=serial))
        label = [c for c in r.json()["photo"]["checks"] if c["check"] == "label_qr"][0]
        assert (label["status"], label["user_fixable"]) == ("uncertain", True)
        assert ("retake_photo", "meter_label") in codes(r.json()["next_actions"])
        scanned = (await client.post(f"{d.url}/scan", json={"payload": payload}, headers=d.who.headers)).json()
        label = [c for c in scanned["photos"][0]["checks"] if c["check"] == "label_qr"]
        assert [c["status"] for c in label] == ["pass"]
        assert ("retake_photo", "meter_label") not in codes(scanned["next_actions"])

    async def test_new_bytes_replace_the_slot_photo(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        first = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", seed=1))
        second = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", seed=2))
        assert (first.status_code, second.status_code) == (201, 201)
        photos = (await _view(client, d))["photos"]
        assert [p["id"] for p in photos] == [second.json()["photo"]["id"]]

    async def test_png_and_heif_are_accepted_by_content(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        png = make.photo("meter_display", fmt="PNG", size=(960, 720))
        heif = make.photo("cabinet_overview", fmt="HEIF", size=(960, 720))
        r = await upload(client, d, "meter_display", png, "image/png")
        assert r.status_code == 201, r.text
        assert (r.json()["photo"]["content_type"], r.json()["photo"]["width"]) == ("image/png", 960)
        r = await upload(client, d, "cabinet_overview", heif, "image/heif")
        assert r.status_code == 201, r.text
        assert (r.json()["photo"]["content_type"], r.json()["photo"]["height"]) == ("image/heic", 720)
        assert r.json()["photo"]["has_exif_location"] is True

    async def test_served_rendition_carries_no_exif(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo("cabinet_overview", gps=ARNHEM)
        assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload has GPS
        r = await upload(client, d, "cabinet_overview", data)
        assert r.status_code == 201 and r.json()["photo"]["has_exif_location"] is True
        served = await client.get(r.json()["photo"]["url"], headers=d.who.headers)
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "image/jpeg"
        img = Image.open(io.BytesIO(served.content))
        assert (img.format, img.size) == ("JPEG", (1600, 1200))
        assert dict(img.getexif()) == {} and "exif" not in img.info
        assert b"Exif\x00\x00" not in served.content

    async def test_rendition_is_made_on_the_first_get_not_at_upload(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview", gps=ARNHEM))
        assert r.status_code == 201, r.text
        sha = r.json()["photo"]["sha256"]
        assert not await has_rendition(sha)  # the upload did not pay for it
        served = await client.get(r.json()["photo"]["url"], headers=d.who.headers)
        assert served.status_code == 200 and await has_rendition(sha)
        assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(0x8825)  # no GPS
        again = await client.get(r.json()["photo"]["url"], headers=d.who.headers)
        assert again.content == served.content

    async def test_photo_of_another_install_is_not_served(self, client: AsyncClient, make: Factory) -> None:
        d, other = await new_install(client, make), await new_install(client, make)
        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview"))
        photo_id = r.json()["photo"]["id"]
        problem(await client.get(f"{other.url}/photos/{photo_id}", headers=other.who.headers), 404, "install/not-found")
        problem(await client.get(f"{d.url}/photos/{photo_id}", headers=other.who.headers), 404, "install/not-found")


class TestUploadPhotoRefusals:
    async def test_slot_not_of_the_asset_type(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        for slot in ("device_label", "selfie"):
            body = problem(await upload(client, d, slot, make.photo("cabinet_overview")), 422, "photo/slot-unknown")
            assert slot in body["detail"]

    async def test_unsupported_content_type_header(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        for content_type in ("text/plain", "image/gif", "application/octet-stream"):
            problem(
                await upload(client, d, "cabinet_overview", make.photo("cabinet_overview"), content_type),
                415,
                "photo/unsupported-type",
            )

    async def test_bytes_that_are_not_a_photo_we_accept(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        for data in (_gif(), b"this is plain text, not a JPEG at all", b"\x00" * 2048):
            problem(await upload(client, d, "cabinet_overview", data), 415, "photo/unsupported-type")
        assert (await _view(client, d))["photos"] == []

    async def test_truncated_and_empty_photos(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo("cabinet_overview")
        problem(await upload(client, d, "cabinet_overview", data[: len(data) // 2]), 422, "photo/undecodable")
        problem(await upload(client, d, "cabinet_overview", b""), 422, "photo/empty")
        assert (await _view(client, d))["photos"] == []

    async def test_more_than_25_mib_is_too_large(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        body = make.photo("cabinet_overview")
        big = body + b"\x00" * (26 * MiB - len(body))
        problem(await upload(client, d, "cabinet_overview", big), 413, "photo/too-large")

        async def chunked():  # no Content-Length: the limit holds while streaming
            for start in range(0, len(big), MiB):
                yield big[start : start + MiB]

        r = await client.put(
            f"{d.url}/photos/cabinet_overview",
            content=chunked(),
            headers={**d.who.headers, "Content-Type": "image/jpeg"},
        )
        problem(r, 413, "photo/too-large")
        assert (await _view(client, d))["photos"] == []

    async def test_more_than_50_megapixels_is_refused_before_decoding(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        out = io.BytesIO()
        Image.new("1", (8000, 7000)).save(out, format="PNG")  # 56 MP in a few kB
        body = problem(
            await upload(client, d, "cabinet_overview", out.getvalue(), "image/png"), 413, "photo/too-many-pixels"
        )
        assert "56000000" in body["detail"]

    async def test_install_of_another_party_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await client.put(
            f"{d.url}/photos/cabinet_overview",
            content=make.photo("cabinet_overview"),
            headers={**make.party(Role.CUSTOMER).headers, "Content-Type": "image/jpeg"},
        )
        problem(r, 404, "install/not-found")
        assert (await _view(client, d))["photos"] == []

    async def test_no_uploads_once_in_review(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert (await client.post(f"{d.url}/help", json={}, headers=d.who.headers)).status_code == 200
        problem(
            await upload(client, d, "cabinet_overview", make.photo("cabinet_overview")), 409, "install/state-conflict"
        )
        problem(await locate(client, d, make.fix()), 409, "install/state-conflict")
