"""tus 1.0 at /mobile/v1/tus, in process: discovery, the version check, creation's metadata, termination,
and a refused photo (the last PATCH answers the PUT's problem and the upload is gone)."""

from __future__ import annotations

from httpx import AsyncClient

from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.mobile_api.helpers import new_install, problem
from tests.uploads.helpers import TUS, create_tus, tus_metadata

SLOT = "meter_label"
OFFSET_STREAM = {"Content-Type": "application/offset+octet-stream"}


class TestDiscovery:
    async def test_options_names_version_extensions_and_size_without_a_token(
        self, client: AsyncClient, settings: Settings
    ) -> None:
        r = await client.options("/mobile/v1/tus")
        assert r.status_code == 204, r.text
        assert (r.headers["Tus-Version"], r.headers["Tus-Resumable"]) == ("1.0.0", "1.0.0")
        assert r.headers["Tus-Extension"] == "creation,termination"
        assert r.headers["Tus-Max-Size"] == str(settings.max_photo_bytes)


class TestVersion:
    async def test_a_request_without_tus_resumable_is_412_naming_the_version(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        r = await create_tus(client, d, SLOT, 100, **{"Tus-Resumable": "0.2.2"})
        problem(r, 412, "upload/tus-version")
        assert r.headers["Tus-Version"] == "1.0.0"


class TestCreation:
    async def test_metadata_names_the_install_and_slot(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await create_tus(client, d, SLOT, 1000)
        assert r.status_code == 201, r.text
        assert r.headers["Location"].startswith("/mobile/v1/tus/") and r.headers["Tus-Resumable"] == "1.0.0"
        assert r.headers["Upload-Expires"].endswith("GMT")
        head = await client.head(r.headers["Location"], headers={**d.who.headers, **TUS})
        assert (head.status_code, head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (200, "0", "1000")
        assert head.headers["Cache-Control"] == "no-store"

    async def test_what_creation_refuses(self, client: AsyncClient, make: Factory, settings: Settings) -> None:
        d = await new_install(client, make)
        bad = {**d.who.headers, **TUS, "Upload-Length": "10"}
        r = await client.post("/mobile/v1/tus", headers={**bad, "Upload-Metadata": "install_id %%%"})
        problem(r, 400, "upload/invalid-header")
        r = await client.post("/mobile/v1/tus", headers={**bad, "Upload-Metadata": tus_metadata(slot=SLOT)})
        problem(r, 400, "upload/invalid-header")
        problem(await create_tus(client, d, SLOT, settings.max_photo_bytes + 1), 413, "photo/too-large")
        other = await new_install(client, make)  # someone else's install: not found
        r = await client.post(
            "/mobile/v1/tus",
            headers={**bad, "Upload-Metadata": tus_metadata(install_id=other.id, slot=SLOT, filetype="image/jpeg")},
        )
        problem(r, 404, "install/not-found")


class TestAppend:
    async def test_a_wrong_offset_is_409_and_another_persons_upload_404(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        url = (await create_tus(client, d, SLOT, 1000)).headers["Location"]
        headers = {**d.who.headers, **TUS, **OFFSET_STREAM}
        r = await client.patch(url, content=b"x" * 10, headers={**headers, "Upload-Offset": "0"})
        assert (r.status_code, r.headers["Upload-Offset"]) == (204, "10"), r.text
        r = await client.patch(url, content=b"x", headers={**headers, "Upload-Offset": "3"})
        problem(r, 409, "upload/offset-mismatch")
        assert r.headers["Upload-Offset"] == "10"
        stranger = {**make.party(Role.CUSTOMER).headers, **TUS, **OFFSET_STREAM, "Upload-Offset": "10"}
        problem(await client.patch(url, content=b"x", headers=stranger), 404, "upload/not-found")
        r = await client.patch(url, content=b"x", headers={**headers, "Content-Type": "image/jpeg"})
        problem(r, 415, "request/unsupported-media-type")

    async def test_an_undecodable_photo_is_refused_by_the_last_patch_and_the_upload_ends(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        data = b"\xff\xd8\xff\xe0 not a jpeg at all"
        url = (await create_tus(client, d, SLOT, len(data))).headers["Location"]
        headers = {**d.who.headers, **TUS, **OFFSET_STREAM, "Upload-Offset": "0"}
        problem(await client.patch(url, content=data, headers=headers), 422, "photo/undecodable")
        assert (await client.head(url, headers={**d.who.headers, **TUS})).status_code == 404


class TestTermination:
    async def test_delete_ends_the_upload(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        url = (await create_tus(client, d, SLOT, 1000)).headers["Location"]
        r = await client.delete(url, headers={**d.who.headers, **TUS})
        assert (r.status_code, r.headers["Tus-Resumable"]) == (204, "1.0.0")
        assert (await client.head(url, headers={**d.who.headers, **TUS})).status_code == 404
