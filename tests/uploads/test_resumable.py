"""Resumable uploads per the IETF draft, in process: creation, offset, append, cancellation, limits,
authorization, expiry, concurrent appends; the photo and its checks are those of a single PUT."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from httpx import ASGITransport, AsyncClient, Response

from backend.app import create_app
from backend.installs.context import InstallContext, build_context
from backend.principal import Role
from backend.settings import Settings
from backend.uploads.sweep import sweep_uploads
from tests.factories import Factory
from tests.helpers.apps import burst_client
from tests.helpers.photo_store import run_store
from tests.mobile_api.helpers import Draft, new_install, problem, upload
from tests.uploads.helpers import append, checks_of, create_ietf

SLOT = "meter_label"


@pytest.fixture
def ctx(settings: Settings) -> Iterator[InstallContext]:
    """The sweep's context on the run's database and photo store."""
    context = replace(build_context(settings), store=run_store())
    yield context
    context.cpu.shutdown()


async def parts_of(location: str) -> list[str]:
    upload_id = location.rsplit("/", 1)[1]
    return [p.name async for p in run_store().parts() if p.name.startswith(upload_id)]


async def created(client: AsyncClient, d: Draft, slot: str = SLOT, **headers: str) -> str:
    r = await create_ietf(client, d, slot, **headers)
    assert r.status_code == 201, r.text
    assert r.headers["Upload-Complete"] == "?0" and r.headers["Upload-Offset"] == "0"
    return r.headers["Location"]


async def same_answer_as_a_put(client: AsyncClient, make: Factory, d: Draft, data: bytes, resumed: Response) -> None:
    """The resumable answer is the PUT's: the same bytes in the same slot, the same checks. (The PUT goes
    to the same slot of the same install after another photo replaced the resumed one: same context.)"""
    assert resumed.status_code == 201, resumed.text
    assert resumed.headers["Upload-Complete"] == "?1"
    r = await upload(client, d, SLOT, make.photo(SLOT))
    assert r.status_code == 201, r.text
    single = await upload(client, d, SLOT, data)
    assert single.status_code == 201, single.text
    assert resumed.json()["photo"]["sha256"] == single.json()["photo"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert checks_of(resumed.json()) == checks_of(single.json())
    assert set(resumed.json()) == set(single.json())


class TestCreation:
    async def test_a_careful_creation_answers_the_upload_resource_and_its_state(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        r = await create_ietf(client, d, SLOT, **{"Upload-Length": "1234"})
        assert r.status_code == 201, r.text
        assert r.headers["Location"].startswith("/mobile/v1/uploads/")
        assert (r.headers["Upload-Offset"], r.headers["Upload-Complete"]) == ("0", "?0")
        assert r.headers["Upload-Length"] == "1234"
        limit = dict(item.split("=") for item in r.headers["Upload-Limit"].split(", "))
        assert int(limit["max-size"]) == settings.max_photo_bytes
        assert 0 < int(limit["max-age"]) <= settings.upload_expiry_s

    async def test_a_whole_body_with_upload_complete_is_answered_as_a_put(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        data = make.photo(SLOT)
        r = await create_ietf(client, d, SLOT, data, complete=True)
        await same_answer_as_a_put(client, make, d, data, r)
        assert await parts_of(r.headers["Location"]) == []  # made a photo: its parts are gone

    async def test_the_puts_own_refusals_come_before_the_upload_exists(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        problem(await create_ietf(client, d, "no_such_slot"), 422, "photo/slot-unknown")
        r = await create_ietf(client, d, SLOT, **{"Content-Type": "application/pdf"})
        problem(r, 415, "photo/unsupported-type")


class TestAppend:
    async def test_parts_then_the_last_one_make_the_photo_a_put_makes(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo(SLOT)
        url = await created(client, d)
        cuts = [0, len(data) // 3, len(data) // 2, len(data)]
        for start, end in zip(cuts[:-2], cuts[1:-1], strict=True):
            r = await append(client, url, d.who.headers, start, data[start:end], complete=False)
            assert r.status_code == 204, r.text
            assert (r.headers["Upload-Offset"], r.headers["Upload-Complete"]) == (str(end), "?0")
        head = await client.head(url, headers=d.who.headers)
        assert head.status_code == 204 and head.headers["Upload-Offset"] == str(cuts[-2])
        assert head.headers["Cache-Control"] == "no-store" and head.headers["Upload-Complete"] == "?0"
        r = await append(client, url, d.who.headers, cuts[-2], data[cuts[-2] :], complete=True)
        await same_answer_as_a_put(client, make, d, data, r)
        head = await client.head(url, headers=d.who.headers)
        assert (head.headers["Upload-Complete"], head.headers["Upload-Offset"]) == ("?1", str(len(data)))
        assert head.headers["Install-Location"] == d.url
        assert await parts_of(url) == []

    async def test_a_wrong_offset_is_409_with_the_right_one(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        assert (await append(client, url, d.who.headers, 0, b"\xff\xd8\xff" * 10, complete=False)).status_code == 204
        r = await append(client, url, d.who.headers, 5, b"more", complete=False)
        body = problem(r, 409, "upload/offset-mismatch")
        assert r.headers["Upload-Offset"] == "30"
        assert (body["expected-offset"], body["provided-offset"]) == (30, 5)
        assert (await client.head(url, headers=d.who.headers)).headers["Upload-Offset"] == "30"  # unchanged

    async def test_what_an_append_must_say(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        r = await client.patch(url, content=b"x", headers={**d.who.headers, "Content-Type": "application/octet-stream"})
        problem(r, 415, "request/unsupported-media-type")
        r = await append(client, url, d.who.headers, 0, b"x", complete=False, **{"Upload-Complete": "yes"})
        assert problem(r, 400, "upload/invalid-header")["detail"].count("Upload-Complete") == 1
        r = await append(client, url, d.who.headers, 0, b"x", complete=False, **{"Upload-Offset": "-1"})
        problem(r, 400, "upload/invalid-header")

    async def test_nothing_is_appended_to_a_completed_upload(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        data = make.photo(SLOT)
        url = await created(client, d)
        assert (await append(client, url, d.who.headers, 0, data, complete=True)).status_code == 201
        problem(await append(client, url, d.who.headers, len(data), b"", complete=True), 400, "upload/completed")

    async def test_an_undecodable_photo_is_the_puts_refusal_and_ends_the_upload(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        r = await append(client, url, d.who.headers, 0, b"\xff\xd8\xff\xe0 not a jpeg at all", complete=True)
        problem(r, 422, "photo/undecodable")
        assert r.headers["Upload-Complete"] == "?1"  # the answer of processing the photo, not of the upload
        assert (await client.head(url, headers=d.who.headers)).status_code == 404
        assert await parts_of(url) == []


class TestLimits:
    async def test_past_the_size_limit_is_413_naming_it(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        too_long = str(settings.max_photo_bytes + 1)
        r = await append(client, url, d.who.headers, 0, b"x", complete=False, **{"Upload-Length": too_long})
        problem(r, 413, "photo/too-large")
        assert r.headers["Upload-Limit"] == f"max-size={settings.max_photo_bytes}"
        r = await create_ietf(client, d, SLOT, **{"Upload-Length": too_long})
        problem(r, 413, "photo/too-large")

    async def test_lengths_must_agree(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = await created(client, d, **{"Upload-Length": "10"})
        r = await append(client, url, d.who.headers, 0, b"x" * 11, complete=False)
        problem(r, 400, "upload/inconsistent-length")
        r = await append(client, url, d.who.headers, 0, b"x" * 4, complete=True)  # complete at 4 of 10 bytes
        problem(r, 400, "upload/inconsistent-length")
        assert (await client.head(url, headers=d.who.headers)).headers["Upload-Offset"] == "0"


class TestAuthorization:
    async def test_another_persons_upload_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        other = make.party(Role.CUSTOMER).headers
        problem(await append(client, url, other, 0, b"x", complete=False), 404, "upload/not-found")
        assert (await client.head(url, headers=other)).status_code == 404
        problem(await client.delete(url, headers=other), 404, "upload/not-found")
        assert (await client.head(url, headers=d.who.headers)).headers["Upload-Offset"] == "0"  # untouched
        assert (await client.head(url)).status_code == 401
        assert (await client.head(f"/mobile/v1/uploads/{uuid.uuid4()}", headers=d.who.headers)).status_code == 404


class TestCancel:
    async def test_delete_removes_the_upload_and_its_bytes(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        assert (await append(client, url, d.who.headers, 0, b"\xff\xd8\xff" * 100, complete=False)).status_code == 204
        assert len(await parts_of(url)) == 1
        r = await client.delete(url, headers=d.who.headers)
        assert r.status_code == 204, r.text
        assert (await client.head(url, headers=d.who.headers)).status_code == 404
        assert await parts_of(url) == []


class TestExpiry:
    async def test_the_sweep_forgets_expired_uploads_and_removes_their_parts(
        self, client: AsyncClient, make: Factory, settings: Settings, ctx: InstallContext
    ) -> None:
        d = await new_install(client, make)
        url = await created(client, d)
        assert (await append(client, url, d.who.headers, 0, b"\xff\xd8\xff" * 100, complete=False)).status_code == 204
        await sweep_uploads(ctx, 0)
        assert (await client.head(url, headers=d.who.headers)).status_code == 204  # not expired yet: kept
        assert len(await parts_of(url)) == 1
        later = replace(ctx, clock=lambda: ctx.clock() + timedelta(seconds=settings.upload_expiry_s + 1))
        report = await sweep_uploads(later, 0)
        assert report.expired >= 1 and report.parts >= 1
        assert (await client.head(url, headers=d.who.headers)).status_code == 404
        assert await parts_of(url) == []


class TestStalledBody:
    async def test_a_body_that_stops_coming_is_408_and_what_came_is_kept(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        url = await created(client, d)

        async def stalls() -> AsyncIterator[bytes]:
            yield b"\xff\xd8\xff" * 1000
            await asyncio.sleep(3)  # past the body read timeout (backend/http_guard.py)
            yield b"never read"

        async with burst_client(replace(settings, body_read_timeout_s=0.5)) as patient:
            r = await append(patient, url, d.who.headers, 0, stalls(), complete=True)
        problem(r, 408, "request/body-timeout")
        assert (await client.head(url, headers=d.who.headers)).headers["Upload-Offset"] == "3000"


class TestBusyWorker:
    async def test_a_body_completed_while_the_worker_is_full_is_503_and_kept(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        """The in-flight bound admits a request at its last body byte (backend/admission.py): a PATCH that
        completes on a full worker is refused then, but what it brought is the upload's."""
        d = await new_install(client, make)
        url = await created(client, d)
        app = create_app(replace(settings, max_requests_in_flight=1, admission_wait_s=0))
        app.state.in_flight.count = 1  # the worker's one place is taken
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as full:
            r = await append(full, url, d.who.headers, 0, b"\xff\xd8\xff" * 1000, complete=False)
        await app.state.ctx.store.aclose()
        app.state.ctx.cpu.shutdown()
        problem(r, 503, "service/busy")
        assert (await client.head(url, headers=d.who.headers)).headers["Upload-Offset"] == "3000"


class TestConcurrentAppends:
    async def test_of_two_appends_at_one_offset_one_commits_and_the_photo_is_whole(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        data = make.photo(SLOT)
        url = await created(client, d)
        half = len(data) // 2
        gate = asyncio.Event()

        async def slow(part: bytes) -> AsyncIterator[bytes]:
            yield part[:100]
            await gate.wait()  # both requests are in flight, holding their first bytes
            yield part[100:]

        first = asyncio.create_task(append(client, url, d.who.headers, 0, slow(data[:half]), complete=False))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(append(client, url, d.who.headers, 0, slow(data[:half]), complete=False))
        await asyncio.sleep(0.2)
        gate.set()
        answers = sorted([(await first).status_code, (await second).status_code])
        assert answers == [204, 409], answers  # the newer request took the upload over
        offset = int((await client.head(url, headers=d.who.headers)).headers["Upload-Offset"])
        assert offset == half and len(await parts_of(url)) == 1
        r = await append(client, url, d.who.headers, offset, data[offset:], complete=True)
        assert r.status_code == 201, r.text
        assert r.json()["photo"]["sha256"] == hashlib.sha256(data).hexdigest()
