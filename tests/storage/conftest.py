"""Both photo stores on real storage: a temporary folder, and a bucket on a real S3 server (SeaweedFS)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session
from botocore.config import Config

from backend.storage import LocalPhotoStore, PhotoStore
from backend.storage.s3 import S3PhotoStore
from tests.helpers import seaweed


@dataclass
class Bucket:
    """The test bucket seen from outside the store under test: what is really there."""

    client: Any
    name: str

    async def keys(self, prefix: str) -> list[str]:
        answer = await self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.name, Key=key)

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.name, Key=key, Body=data)


@pytest.fixture(scope="session")
def s3_endpoint() -> seaweed.S3Endpoint:
    return seaweed.endpoint()


@pytest.fixture(scope="session")
async def bucket(s3_endpoint: seaweed.S3Endpoint) -> AsyncIterator[Bucket]:
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=s3_endpoint.access_key,
        aws_secret_access_key=s3_endpoint.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    ) as client:
        yield Bucket(client, s3_endpoint.bucket)


def s3_store(endpoint: seaweed.S3Endpoint, staging: Path, **overrides: Any) -> S3PhotoStore:
    """A store under a prefix of its own, so a test sees only what it stored."""
    return S3PhotoStore(
        endpoint.bucket,
        f"{seaweed.run_prefix()}/",
        staging,
        endpoint_url=overrides.get("endpoint_url", endpoint.url),
        access_key_id=endpoint.access_key,
        secret_access_key=overrides.get("secret_access_key", endpoint.secret_key),
    )


@dataclass
class Subject:
    """A store under test, and what the tests look at behind its back."""

    store: PhotoStore
    staging: Path  # where uploads are staged before commit
    drop_original: Callable[[str], Awaitable[None]]  # lose an original, but not its cached rendition
    objects: Callable[[], Awaitable[list[str]]]  # every file or key the store holds, staging included

    def staged_files(self) -> list[Path]:
        return sorted(self.staging.iterdir())


@pytest.fixture(params=["local", "s3"])
async def subject(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: seaweed.S3Endpoint, bucket: Bucket
) -> AsyncIterator[Subject]:
    if request.param == "local":
        local = LocalPhotoStore(tmp_path / "photos")

        async def drop_local(sha256: str) -> None:
            local.original_path(sha256).unlink()

        async def files() -> list[str]:
            return sorted(str(p.relative_to(local.root)) for p in local.root.rglob("*") if p.is_file())

        yield Subject(local, local.root / "incoming", drop_local, files)
        return
    s3 = s3_store(s3_endpoint, tmp_path / "incoming")

    async def drop_s3(sha256: str) -> None:
        await bucket.delete(f"{s3.prefix}originals/{sha256[:2]}/{sha256}")

    async def keys() -> list[str]:
        staged = sorted(f"incoming/{p.name}" for p in (tmp_path / "incoming").iterdir())
        return staged + [key.removeprefix(s3.prefix) for key in await bucket.keys(s3.prefix)]

    yield Subject(s3, tmp_path / "incoming", drop_s3, keys)
    await s3.aclose()
