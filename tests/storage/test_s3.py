"""What only the S3 store does, against a real S3 server: the server checks our checksums, keys live
under the prefix, a store that cannot be reached is a 503, and the app serves photos from a bucket."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.errors import Unavailable
from backend.installs import repository as repo
from backend.settings import Settings
from backend.storage import ChecksumMismatch
from backend.storage.s3 import S3PhotoStore
from tests.factories import Factory
from tests.helpers import seaweed
from tests.mobile_api.helpers import new_install, problem, upload
from tests.storage.conftest import Bucket, s3_store


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def store(s3_endpoint: seaweed.S3Endpoint, tmp_path: Path) -> AsyncIterator[S3PhotoStore]:
    store = s3_store(s3_endpoint, tmp_path / "incoming")
    yield store
    await store.aclose()


class TestTheServerChecksTheBytes:
    async def test_a_wrong_sha256_is_refused_by_the_server_and_nothing_is_stored(
        self, store: S3PhotoStore, bucket: Bucket
    ) -> None:
        data = b"what the client sent" * 100
        wrong = b64(hashlib.sha256(b"something else").digest())
        with pytest.raises(ChecksumMismatch):
            await store._put("probe/sha", data, len(data), wrong, hashlib.md5(data).digest(), "image/jpeg")
        assert await bucket.keys(store.prefix) == []

    async def test_a_wrong_md5_is_refused_by_the_server_and_nothing_is_stored(
        self, store: S3PhotoStore, bucket: Bucket
    ) -> None:
        data = b"what the client sent" * 100
        sha = b64(hashlib.sha256(data).digest())
        with pytest.raises(ChecksumMismatch):
            await store._put("probe/md5", data, len(data), sha, hashlib.md5(b"something else").digest(), "image/jpeg")
        assert await bucket.keys(store.prefix) == []

    async def test_the_stored_object_carries_its_content_address_as_checksum(
        self, store: S3PhotoStore, bucket: Bucket
    ) -> None:
        data = b"\xff\xd8 a photo" * 1000
        staged = await store.receive(one_chunk(data), max_bytes=1 << 20)
        await store.commit(staged)
        key = f"{store.prefix}originals/{staged.sha256[:2]}/{staged.sha256}"
        assert await bucket.keys(store.prefix) == [key]
        head = await bucket.client.head_object(Bucket=bucket.name, Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == b64(bytes.fromhex(staged.sha256))
        assert head["ContentLength"] == len(data)

    async def test_a_damaged_object_at_the_address_is_replaced(self, store: S3PhotoStore, bucket: Bucket) -> None:
        data = b"the real bytes" * 500
        sha = hashlib.sha256(data).hexdigest()
        key = f"{store.prefix}originals/{sha[:2]}/{sha}"
        await bucket.put(key, b"rot")  # what a bad restore could leave at the address
        staged = await store.receive(one_chunk(data), max_bytes=1 << 20)
        await store.commit(staged)
        got = await bucket.client.get_object(Bucket=bucket.name, Key=key)
        assert await got["Body"].read() == data


class TestBadDays:
    async def test_an_unreachable_store_is_unavailable_and_the_staged_file_stays_ours(
        self, s3_endpoint: seaweed.S3Endpoint, tmp_path: Path
    ) -> None:
        store = s3_store(s3_endpoint, tmp_path / "incoming", endpoint_url=f"http://127.0.0.1:{closed_port()}")
        staged = await store.receive(one_chunk(b"bytes"), max_bytes=1024)
        with pytest.raises(Unavailable) as caught:
            await store.commit(staged)
        assert caught.value.code == "service/photo-store-unavailable" and caught.value.params["retry_after_s"] > 0
        store.discard(staged)
        assert list((tmp_path / "incoming").iterdir()) == []
        with pytest.raises(Unavailable):
            await store.original(staged.sha256)
        with pytest.raises(Unavailable):
            await store.ping()
        await store.aclose()

    async def test_keys_the_store_refuses_make_it_not_ready(
        self, s3_endpoint: seaweed.S3Endpoint, tmp_path: Path
    ) -> None:
        store = s3_store(s3_endpoint, tmp_path / "incoming", secret_access_key="not-the-secret")
        with pytest.raises(Unavailable):
            await store.ping()
        await store.aclose()


def s3_settings(settings: Settings, endpoint: seaweed.S3Endpoint, prefix: str, url: str | None = None) -> Settings:
    return dataclasses.replace(
        settings,
        photo_store=f"s3://{endpoint.bucket}/{prefix}",
        s3_endpoint_url=url or endpoint.url,
        s3_access_key_id=endpoint.access_key,
        s3_secret_access_key=endpoint.secret_key,
        max_requests_in_flight=0,
    )


class TestTheAppOnS3:
    async def test_an_upload_lands_in_the_bucket_before_its_row_and_is_served_from_it(
        self,
        client: httpx.AsyncClient,
        make: Factory,
        settings: Settings,
        s3_endpoint: seaweed.S3Endpoint,
        bucket: Bucket,
    ) -> None:
        prefix = seaweed.run_prefix()
        app = create_app(s3_settings(settings, s3_endpoint, prefix))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            d = await new_install(c, make)
            data = make.photo("cabinet_overview")
            r = await upload(c, d, "cabinet_overview", data)
            assert r.status_code == 201, r.text
            photo = r.json()["photo"]
            sha = hashlib.sha256(data).hexdigest()
            assert photo["sha256"] == sha and await repo.sha256_stored(sha)
            assert await bucket.keys(f"{prefix}/") == [f"{prefix}/originals/{sha[:2]}/{sha}"]
            shown = await c.get(photo["url"], headers=d.who.headers)
            assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
            assert int(shown.headers["content-length"]) == len(shown.content) and shown.content[:3] == b"\xff\xd8\xff"
            assert f"{prefix}/renditions/{sha[:2]}/{sha}.jpg" in await bucket.keys(f"{prefix}/")
            assert (await c.get("/health/ready")).status_code == 200
        await app.state.ctx.store.aclose()

    async def test_while_the_store_is_unreachable_an_upload_is_a_503_and_leaves_no_row(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings, s3_endpoint: seaweed.S3Endpoint
    ) -> None:
        dead = s3_settings(settings, s3_endpoint, seaweed.run_prefix(), url=f"http://127.0.0.1:{closed_port()}")
        app = create_app(dead)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            d = await new_install(c, make)
            data = make.photo("cabinet_overview")
            r = await upload(c, d, "cabinet_overview", data, **{"Accept-Language": "en"})
            body = problem(r, 503, "service/photo-store-unavailable")
            assert "photo storage" in body["detail"] and int(r.headers["retry-after"]) > 0
            assert not await repo.sha256_stored(hashlib.sha256(data).hexdigest())
            assert list((dead.photo_dir / "incoming").glob("*.part")) == []
            ready = await c.get("/health/ready")
            assert ready.status_code == 503 and ready.json()["code"] == "service/photo-store-unavailable"
        await app.state.ctx.store.aclose()
