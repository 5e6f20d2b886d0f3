"""Hostile bodies on the routes that do not take one JSON object: photo uploads (lying bytes, forged
EXIF times, an install cancelled mid-upload), warehouse batches (CSV and JSON) and the console's
forms. No 5xx, and no row, file or partial upload left by a refused request."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image

from backend.installs import repository as repo
from backend.installs.orphans import sweep_files
from backend.installs.stored_halves import StoredHalves
from backend.jobs.tables import Job
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.helpers.photo_store import stored_originals
from tests.helpers.review import case_id_of, helped
from tests.mobile_api.helpers import new_install, upload
from tests.reliability.hostile import console_session, orphans, refused, stored

MiB = 1024 * 1024


def with_exif_time(photo: bytes, taken: str, offset: str | None) -> bytes:
    """The same picture re-saved with a forged DateTimeOriginal (and OffsetTimeOriginal)."""
    with Image.open(io.BytesIO(photo)) as img:
        exif = img.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        sub[ExifTags.Base.DateTimeOriginal] = taken
        if offset is not None:
            sub[ExifTags.Base.OffsetTimeOriginal] = offset
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def _png_truncated() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(out, format="PNG")
    return out.getvalue()[:200]


LYING_PHOTOS = {
    "text as JPEG": (b"hello, not a photo", "image/jpeg", 415, "photo/unsupported-type"),
    "SVG as PNG": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/png", 415, "photo/unsupported-type"),
    "truncated PNG": (_png_truncated(), "image/png", 422, "photo/undecodable"),
    "JPEG header only": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", 422, "photo/undecodable"),
    "empty": (b"", "image/jpeg", 422, "photo/empty"),
    "JSON content type": (b"\xff\xd8\xff", "application/json", 415, "photo/unsupported-type"),
    "content type with NUL": (b"\xff\xd8\xff", "image/jpeg\x01", 415, "photo/unsupported-type"),
}


class TestPhotoUploads:
    @pytest.mark.parametrize(("body", "content_type", "status", "code"), LYING_PHOTOS.values(), ids=LYING_PHOTOS)
    async def test_a_lying_body_is_refused_and_leaves_nothing(
        self,
        client: httpx.AsyncClient,
        make: Factory,
        settings: Settings,
        body: bytes,
        content_type: str,
        status: int,
        code: str,
    ) -> None:
        d = await new_install(client, make)
        before = await stored(settings.photo_dir)
        r = await upload(client, d, "cabinet_overview", body, content_type)
        assert r.status_code == status
        refused(r, code)
        assert await stored(settings.photo_dir) == before

    @pytest.mark.parametrize(
        ("taken", "offset"),
        [
            ("9999:12:31 23:59:59", "-23:59"),  # 10000-01-01 in UTC: the overflow that was a 500
            ("0001:01:01 00:00:00", "+23:59"),  # year 0 in UTC
            ("0001:01:01 00:00:00", None),  # before UTC in the policy's time zone
            ("1970:01:01 00:00:00", "+00:00"),  # a camera whose clock was reset
            ("2024:02:30 25:61:61", "+01:00"),  # no such time
            ("2024:05:01 10:00:00", "+99:99"),  # no such offset: the policy's zone instead
        ],
    )
    async def test_a_forged_exif_time_is_no_time_and_the_photo_is_kept(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings, taken: str, offset: str | None
    ) -> None:
        d = await new_install(client, make)
        leftovers = await orphans(settings.photo_dir)
        r = await upload(client, d, "cabinet_overview", with_exif_time(make.photo("cabinet_overview"), taken, offset))
        assert r.status_code == 201, r.text
        photo = r.json()["photo"]
        capture = next(c for c in photo["checks"] if c["check"] == "capture_time")
        if offset == "+99:99":
            assert photo["taken_at"] is not None  # a real time, read in the policy's zone
        else:
            assert photo["taken_at"] is None and capture["status"] == "uncertain", capture
        assert await repo.sha256_stored(photo["sha256"])
        assert photo["sha256"] in await stored_originals()
        assert await orphans(settings.photo_dir) == leftovers

    async def test_an_install_cancelled_during_the_upload_keeps_no_file(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        data = make.photo("cabinet_overview")
        leftovers = await orphans(settings.photo_dir)

        async def body_while_cancelling() -> AsyncIterator[bytes]:
            yield data[: len(data) // 2]
            cancelled = await client.post(f"{d.url}/cancel", json={}, headers=d.who.headers)
            assert cancelled.status_code == 200, cancelled.text
            yield data[len(data) // 2 :]

        r = await client.put(
            f"{d.url}/photos/cabinet_overview",
            content=body_while_cancelling(),
            headers={**d.who.headers, "Content-Type": "image/jpeg"},
        )
        refused(r, "install/state-conflict")
        assert await orphans(settings.photo_dir) == leftovers  # the checked file was taken back

    async def test_a_reuse_lookup_that_fails_while_the_photo_is_made_durable_leaves_it_to_the_sweep(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The store's commit runs beside the reuse lookup (backend/installs/evidence.py). A lookup that fails
        # (the database went away) once the file is durable leaves it to the orphan sweep's grace, never
        # takes it back at once: a retry of the same upload may have found it stored and still write its row.
        d = await new_install(client, make)
        data = make.photo("cabinet_overview")
        sha256 = hashlib.sha256(data).hexdigest()
        leftovers = await orphans(settings.photo_dir)
        seen_durable = []

        async def database_gone(*_: object) -> list[object]:
            for _ in range(1000):  # until the commit beside it has stored the file (a bound, not a timing)
                if sha256 in await stored_originals():
                    seen_durable.append(sha256)
                    break
                await asyncio.sleep(0.01)
            raise ConnectionError("the database went away")

        monkeypatch.setattr(StoredHalves, "present", database_gone)
        r = await client.put(
            f"{d.url}/photos/cabinet_overview", content=data, headers={**d.who.headers, "Content-Type": "image/jpeg"}
        )
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json", r.text
        assert seen_durable == [sha256]
        assert sorted(await orphans(settings.photo_dir)) == sorted([*leftovers, sha256])  # whole, for the sweep
        ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
        later = replace(ctx, clock=lambda: datetime.now(UTC) + timedelta(hours=2))
        await sweep_files(later, grace_s=3600)
        assert sha256 not in await stored_originals()


def csv_batch(*rows: str) -> bytes:
    return ("serial,asset_type\n" + "".join(f"{r}\n" for r in rows)).encode()


BATCHES = {
    "NUL in a serial": (csv_batch("MTR1-9\x0001,smart_meter_1p"), "text/csv", 422, "assets/invalid-batch"),
    "a field past the CSV limit": (
        csv_batch("A" * 200_000 + ",smart_meter_1p"),
        "text/csv",
        422,
        "assets/invalid-batch",
    ),
    "not UTF-8": (b"serial,asset_type\n\xff\xfe,x\n", "text/csv", 400, "request/invalid"),
    "CSV sent as JSON": (csv_batch("MTR1-900009,smart_meter_1p"), "application/json", 400, "request/invalid"),
    "100k [": (b"[" * 100_000, "application/json", 400, "request/too-deeply-nested"),
    "NUL in JSON": (
        b'[{"serial": "MTR1-9\\u000001", "asset_type": "smart_meter_1p"}]',
        "application/json",
        422,
        "assets/invalid-batch",
    ),
    "41-character type": (
        b'[{"serial": "MTR1-900010", "asset_type": "' + b"x" * 41 + b'"}]',
        "application/json",
        422,
        "assets/invalid-batch",
    ),
    "a number for a serial": (
        b'[{"serial": 18446744073709551616, "asset_type": "x"}]',
        "application/json",
        422,
        "assets/invalid-batch",
    ),
    "an image": (b"\x89PNG\r\n\x1a\n", "image/png", 415, "request/unsupported-media-type"),
    "past 5 MiB": (csv_batch(*["MTR1-900011,smart_meter_1p"] * 200_000), "text/csv", 413, "request/too-large"),
}


class TestAssetBatches:
    @pytest.mark.parametrize(("body", "content_type", "status", "code"), BATCHES.values(), ids=BATCHES)
    async def test_a_hostile_batch_is_refused_and_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        make: Factory,
        settings: Settings,
        body: bytes,
        content_type: str,
        status: int,
        code: str,
    ) -> None:
        admin = make.party(Role.ADMIN)
        before = await stored(settings.photo_dir)
        r = await client.post("/admin/v1/assets", content=body, headers={**admin.headers, "Content-Type": content_type})
        assert r.status_code == status, r.text[:300]
        refused(r, code)
        assert await stored(settings.photo_dir) == before


def job_batch(*rows: str) -> bytes:
    return (
        "ean,asset_type,window_start,window_end,installer,self_install,serial\n" + "".join(f"{r}\n" for r in rows)
    ).encode()


_WINDOW = "2030-05-12T08:00:00+02:00,2030-05-12T12:00:00+02:00"
JOB_BATCHES = {
    "NUL in an EAN": (job_batch(f"87168700000000\x000009,smart_meter_1p,{_WINDOW},,,"), "text/csv", 422),
    "NUL in an installer": (job_batch(f"871687000000000009,smart_meter_1p,{_WINDOW},inst\x00,,"), "text/csv", 422),
    "a window without a zone": (
        job_batch("871687000000000009,smart_meter_1p,2030-05-12T08:00,2030-05-12T09:00,,,"),
        "text/csv",
        422,
    ),
    "a window in the year 9999": (
        b'[{"ean": "871687000000000009", "asset_type": "smart_meter_1p", '
        b'"window_start": "9999-01-01T00:00:00Z", "window_end": "9999-01-01T01:00:00Z"}]',
        "application/json",
        422,
    ),
    "a number for an EAN": (b'[{"ean": 871687000000000009}]', "application/json", 422),
    "not UTF-8": (b"ean,asset_type\n\xff\xfe,x\n", "text/csv", 400),
    "100k [": (b"[" * 100_000, "application/json", 400),
    "an image": (b"\x89PNG\r\n\x1a\n", "image/png", 415),
    "past 5 MiB": (job_batch(*[f"871687000000000009,smart_meter_1p,{_WINDOW},,,"] * 80_000), "text/csv", 413),
}


class TestJobBatches:
    @pytest.mark.parametrize(("body", "content_type", "status"), JOB_BATCHES.values(), ids=JOB_BATCHES)
    async def test_a_hostile_batch_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, make: Factory, body: bytes, content_type: str, status: int
    ) -> None:
        admin = make.party(Role.ADMIN)
        before = await Job.count()
        r = await client.post(
            "/admin/v1/jobs/import", content=body, headers={**admin.headers, "Content-Type": content_type}
        )
        assert r.status_code == status, r.text[:300]
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await Job.count() == before


FORMS = {
    "NUL in the note": {"note": "a\x00b"},
    "escape in the message": {"message_to_customer": "\x1b[2J"},
    "superscript version": {"version": "²"},  # "²".isdigit() is True, int("²") raises
    "version past integer": {"version": str(2**40)},
    "version zero": {"version": "0"},
}


class TestConsoleForms:
    @pytest.fixture
    async def case(self, client: httpx.AsyncClient, make: Factory) -> tuple[int, dict[str, str]]:
        d = await new_install(client, make)
        await helped(client, d)
        return await case_id_of(d.id), await console_session(client, make)

    @pytest.mark.parametrize("action", ["decision", "verdict"])
    @pytest.mark.parametrize("change", FORMS.values(), ids=FORMS)
    async def test_a_hostile_form_answers_the_case_page_with_a_message_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        case: tuple[int, dict[str, str]],
        action: str,
        change: dict[str, str],
    ) -> None:
        case_id, session = case
        own = {"decision": {"outcome": "approve", "reason_code": "evidence_sufficient", "message_to_customer": ""}}
        form: dict[str, Any] = own.get(action, {"verdict": "agree"})  # each form's own fields: others are refused
        form |= {"version": "1", "note": "", "_csrf_token": session["x-csrftoken"], **change}
        before = await stored(settings.photo_dir)
        r = await client.post(f"/console/cases/{case_id}/{action}", data=form, headers=session)
        assert r.status_code == 400 and "location" not in r.headers, r.text  # the case page again, nothing saved
        assert await stored(settings.photo_dir) == before

    @pytest.mark.parametrize("cookie", ["%00", "\x7f" * 10, "x" * 4000, "%ED%A0%80"])
    async def test_a_hostile_session_cookie_is_no_session(self, client: httpx.AsyncClient, cookie: str) -> None:
        r = await client.get("/console/queue", headers={"Cookie": f"si_console={cookie}"})
        assert r.status_code == 303 and r.headers["location"] == "/console/login"

    @pytest.mark.parametrize("token", ["a\x00b", "\x1b" * 100, "e" * 500_000], ids=["NUL", "escapes", "500 kB"])
    async def test_a_hostile_sign_in_token_is_refused(
        self, client: httpx.AsyncClient, make: Factory, token: str
    ) -> None:
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        r = await client.post(
            "/console/login", data={"token": token, "_csrf_token": csrf}, headers={"Cookie": f"csrftoken={csrf}"}
        )
        assert r.status_code == 401, r.text[:300]
