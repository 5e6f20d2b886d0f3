"""Uploads cut at random offsets over real loopback HTTP against a running server, resumed, and ending
with the photo, SHA-256 and checks of one PUT of the same file: the IETF draft (raw requests and httpx)
and tus (the tuspy client). On the run's photo store: the folder, or S3 with TEST_PHOTO_STORE=s3."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tusclient.client import TusClient

from tests.factories import Factory
from tests.helpers.server import serving
from tests.mobile_api.helpers import Draft, new_install
from tests.uploads.cuts import cut, offset_once_settled
from tests.uploads.helpers import PARTIAL, TUS, checks_of, create_ietf, flag

SLOT = "meter_label"
CUTS = 2  # per upload, at random offsets


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory, database: None) -> AsyncIterator[str]:
    """`selfinstall serve` on the run's database and photo store, with two workers: a resumed upload's
    requests land on either, so the offset's compare-and-set is what keeps them in order."""
    async with serving({"WORKERS": "2"}, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture
async def http(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=60) as c:
        yield c


async def same_as_a_put(http: httpx.AsyncClient, make: Factory, d: Draft, data: bytes, resumed: dict[str, Any]) -> None:
    """`resumed` (a photo's answer or view) is what a PUT of `data` answers in the same place: the same
    bytes and checks (another photo replaces the resumed one first, so the PUT meets the same install)."""
    put = {**d.who.headers, "Content-Type": "image/jpeg"}
    assert (await http.put(f"{d.url}/photos/{SLOT}", content=make.photo(SLOT), headers=put)).status_code == 201
    single = await http.put(f"{d.url}/photos/{SLOT}", content=data, headers=put)
    assert single.status_code == 201, single.text
    assert resumed["photo"]["sha256"] == single.json()["photo"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert checks_of(resumed) == checks_of(single.json())


def cut_points(rng: random.Random, size: int) -> list[int]:
    return sorted(rng.sample(range(1, size), CUTS))


class TestIetfDraft:
    @pytest.mark.parametrize("seed", [1, 2])
    async def test_cut_twice_then_resumed_it_is_the_puts_photo(
        self, http: httpx.AsyncClient, server: str, make: Factory, seed: int
    ) -> None:
        d = await new_install(http, make)
        data = make.photo(SLOT)
        created = await create_ietf(http, d, SLOT, **{"Upload-Length": str(len(data))})
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        offset = 0
        for at in cut_points(random.Random(seed), len(data)):
            headers = {**d.who.headers, **PARTIAL, "Upload-Offset": str(offset), "Upload-Complete": flag(True)}
            cut(server + url, "PATCH", headers, data[offset:], send=at - offset)
            offset = await offset_once_settled(http, url, d.who.headers, expected=at)
            assert offset == at  # every byte that reached the server was kept
        head = await http.head(url, headers=d.who.headers)
        assert (head.headers["Upload-Complete"], head.headers["Upload-Length"]) == ("?0", str(len(data)))
        last = {**d.who.headers, **PARTIAL, "Upload-Offset": str(offset), "Upload-Complete": flag(True)}
        r = await http.patch(url, content=data[offset:], headers=last)
        assert r.status_code == 201, r.text
        assert r.headers["Upload-Complete"] == "?1"
        await same_as_a_put(http, make, d, data, r.json())

    async def test_a_cut_creation_keeps_its_bytes_for_the_upload_resource(
        self, http: httpx.AsyncClient, server: str, make: Factory
    ) -> None:
        """Without a 104 the client learns the Location only from an answer: a careful creation (?0)
        brings the first part, then the rest is appended to it."""
        d = await new_install(http, make)
        data = make.photo(SLOT)
        half = len(data) // 2
        r = await create_ietf(http, d, SLOT, data[:half])
        assert (r.status_code, r.headers["Upload-Offset"]) == (201, str(half)), r.text
        url = r.headers["Location"]
        headers = {**d.who.headers, **PARTIAL, "Upload-Offset": str(half), "Upload-Complete": flag(True)}
        at = half + random.Random(3).randrange(1, len(data) - half)
        cut(server + url, "PATCH", headers, data[half:], send=at - half)
        assert await offset_once_settled(http, url, d.who.headers, expected=at) == at
        r = await http.patch(url, content=data[at:], headers={**headers, "Upload-Offset": str(at)})
        assert r.status_code == 201, r.text
        await same_as_a_put(http, make, d, data, r.json())


class TestTus:
    @pytest.mark.parametrize("seed", [4, 5])
    async def test_cut_twice_then_resumed_by_tuspy_it_is_the_puts_photo(
        self, http: httpx.AsyncClient, server: str, make: Factory, seed: int, tmp_path: Path
    ) -> None:
        d = await new_install(http, make)
        data = make.photo(SLOT)
        tus = TusClient(f"{server}/mobile/v1/tus", headers=d.who.headers)
        metadata = {"install_id": d.id, "slot": SLOT, "filetype": "image/jpeg"}
        url = tus.uploader(file_stream=io.BytesIO(data), metadata=metadata).create_url()
        offset = 0
        for at in cut_points(random.Random(seed), len(data)):
            headers = {**d.who.headers, **TUS, "Content-Type": "application/offset+octet-stream"}
            cut(url, "PATCH", {**headers, "Upload-Offset": str(offset)}, data[offset:], send=at - offset)
            offset = await offset_once_settled(http, url, {**d.who.headers, **TUS}, expected=at)
            assert offset == at
        resumed = tus.uploader(file_stream=io.BytesIO(data), url=url, chunk_size=len(data) // 3 + 1)
        assert resumed.offset == offset  # tuspy asked (HEAD) where to go on
        resumed.upload()
        answer = resumed.request.response_headers
        assert answer["install-location"] == d.url
        view = (await http.get(d.url, headers=d.who.headers)).json()  # where a tus client finds the checks
        (photo,) = [p for p in view["photos"] if p["slot"] == SLOT]
        assert str(photo["id"]) == answer["photo-id"]
        await same_as_a_put(http, make, d, data, {"photo": photo})
