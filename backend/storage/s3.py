"""Photos in an S3-compatible object store (AWS S3, Ceph RGW, MinIO, SeaweedFS), through aiobotocore.

Keys: `<prefix>originals/ab/<sha256>`, `<prefix>renditions/ab/<sha256>.jpg`, and a resumable upload's parts
`<prefix>uploads/<upload id>/<part>` (one object each: backend/uploads). An upload is staged in
a local temporary file (validation decodes it there), re-hashed, then sent in one streaming PUT that
carries its own SHA-256 (x-amz-checksum-sha256: the content address) and MD5 (Content-MD5). The
server refuses bytes that differ, and its answer must confirm the checksum before `commit` returns,
that is before the photo row commits. A PUT is atomic, so an interrupted one leaves nothing, and no
multipart upload is ever started (photos are far below the 5 GB one PUT may carry): there are no
incomplete uploads to sweep. Photos are served by streaming through the app: the bucket stays
private and authorization stays in one place, instead of handing phones presigned URLs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from backend.errors import Unavailable
from backend.storage.base import (
    READ_CHUNK,
    STORE_RETRY_AFTER_S,
    ChecksumMismatch,
    InUse,
    OncePerKey,
    PartReceived,
    PhotoBody,
    PhotoNotStored,
    StagedUpload,
    StoredPart,
    StoredPhoto,
    SweepReport,
    batches,
    bytes_chunks,
    render_clean,
    require_size,
    stage,
    stage_until_failure,
    sweep_partials,
)

CONNECT_TIMEOUT_S = 2.0  # like the database: a store that does not answer is a 503 within seconds
READ_TIMEOUT_S = 15.0  # between two reads of one answer, not the whole transfer
ATTEMPTS = 3  # botocore's standard retry mode: throttling, 5xx and dropped connections, with backoff
MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
REFUSED_DIGEST = frozenset({"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch"})
# Connection refused, reset, timed out, TLS failed: botocore's two families, and aiohttp's own mid-body.
UNREACHABLE = (BotoConnectionError, HTTPClientError, aiohttp.ClientError, TimeoutError)


class S3PhotoStore:
    """Content-addressed photos in one bucket under a prefix, shared by every worker on every host."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        staging: Path,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._staging = staging
        staging.mkdir(parents=True, exist_ok=True)
        credentials = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            # Unset: botocore's own chain (instance profile, web identity, ~/.aws), as on AWS itself.
            **(credentials if access_key_id else {}),
            "config": Config(
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
                retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
                s3={
                    # Self-hosted stores rarely have wildcard DNS for virtual-hosted buckets.
                    "addressing_style": "path" if endpoint_url else "virtual",
                    # The signed checksum headers already bind the body: no second hashing pass.
                    "payload_signing_enabled": False,
                },
                # We send the checksums ourselves; botocore's own CRC trailers trip some S3-compatibles.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._opening = asyncio.Lock()
        self._rendering: OncePerKey = OncePerKey()

    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> StagedUpload:
        """Stream to a local temporary file, hashing as it arrives; refuse past `max_bytes`."""
        return await stage(chunks, max_bytes, self._staging, md5=True)

    async def commit(self, staged: StagedUpload) -> bool:
        """Upload the staged file to its content address and have the store confirm its checksum.

        The file is not read twice: its SHA-256 and MD5 were taken while it streamed in, and the
        server checks the bytes it receives against both (a byte changed since is refused, a shorter
        file is refused here). Always a PUT, also when the bytes are stored already: it renews the
        object's time, so the orphan sweep's grace covers this upload's row (an overwrite with the
        same bytes is atomic)."""
        md5 = staged.md5
        assert md5 is not None, "receive() stages with md5=True"
        require_size(staged)
        with open(staged.path, "rb") as body:
            await self._put(
                self._key("originals", staged.sha256),
                body,
                staged.size,
                _b64(bytes.fromhex(staged.sha256)),
                md5,
                "application/octet-stream",
            )
        self.discard(staged)
        return True

    def discard(self, staged: StagedUpload) -> None:
        staged.path.unlink(missing_ok=True)

    async def remove(self, sha256: str) -> None:
        """Take back a committed original whose row was never written (and its cached rendition)."""
        s3 = await self._s3()
        async with self._reachable():
            for key in (self._key("originals", sha256), self._rendition_key(sha256)):
                await s3.delete_object(Bucket=self.bucket, Key=key)

    async def original(self, sha256: str) -> PhotoBody:
        """The original upload, EXIF included, streamed from the bucket."""
        return await self._get(self._key("originals", sha256))

    @asynccontextmanager
    async def original_file(self, sha256: str) -> AsyncIterator[Path]:
        """The original copied to a local temporary file, for work that decodes it; removed afterwards."""
        body = await self.original(sha256)
        fd, name = tempfile.mkstemp(dir=self._staging, suffix=".part")  # swept like a stale upload if we crash
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in body.chunks:
                    out.write(chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def rendition(self, sha256: str) -> PhotoBody:
        """The clean JPEG (backend.storage.base.render_clean): made on the first request (never at upload),
        once however many ask at the same moment in this process, then cached in the bucket."""
        key = self._rendition_key(sha256)
        try:
            return await self._get(key)
        except PhotoNotStored:
            pass
        data = await self._rendering.run(sha256, lambda: self._render(sha256, key))
        return PhotoBody(size=len(data), chunks=bytes_chunks(data))

    async def _render(self, sha256: str, key: str) -> bytes:
        async with self.original_file(sha256) as path:
            data = await asyncio.to_thread(render_clean, path)
        digest = hashlib.sha256(data).digest()
        await self._put(key, data, len(data), _b64(digest), hashlib.md5(data).digest(), "image/jpeg")
        return data

    async def originals(self) -> AsyncIterator[StoredPhoto]:
        """Every committed original under the prefix, with its size and modification time."""
        s3 = await self._s3()
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}originals/")
        async with self._reachable():
            async for page in pages:
                for item in page.get("Contents", []):
                    yield StoredPhoto(item["Key"].rsplit("/", 1)[1], item["Size"], item["LastModified"])

    async def sweep(self, in_use: InUse, cutoff: float) -> SweepReport:
        """Remove stale local `*.part` files, and originals without a row last modified before `cutoff`.

        An upload of the same bytes renews the object (`commit` always PUTs), and each orphan is
        looked at once more just before its DELETE: only an identical upload landing in the one
        round trip between that look and the DELETE could lose its object (S3 has no rename to
        claim an object first, as the local store does)."""
        partials = await asyncio.to_thread(sweep_partials, (self._staging,), cutoff)
        old = [p.sha256 async for p in self.originals() if p.modified.timestamp() < cutoff]
        orphans = 0
        for batch in batches(old):
            used = await in_use(batch)
            for sha256 in batch:
                if sha256 not in used and await self._unchanged_since(sha256, cutoff):
                    await self.remove(sha256)
                    orphans += 1
        return SweepReport(partials=partials, orphans=orphans)

    async def ping(self) -> None:
        """The bucket answers to our credentials; anything else is `Unavailable` (not ready)."""
        s3 = await self._s3()
        try:
            await s3.head_bucket(Bucket=self.bucket)
        except (ClientError, *UNREACHABLE) as exc:
            raise Unavailable("service/photo-store-unavailable", retry_after_s=STORE_RETRY_AFTER_S) from exc

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def receive_part(self, name: str, chunks: AsyncIterable[bytes], max_bytes: int) -> PartReceived:
        """Stage what arrives (kept even if the stream failed), then one checked PUT to `uploads/<name>`.

        One object per request, not an S3 multipart upload: a part must be at least 5 MiB there (but
        the last), and an interrupted request brings any number of bytes; objects need no minimum and
        leave no incomplete multipart upload behind to abort."""
        staged, failure = await stage_until_failure(chunks, max_bytes, self._staging, md5=True)
        try:
            if staged.size:
                assert staged.md5 is not None, "staged with md5=True"
                with open(staged.path, "rb") as body:
                    await self._put(
                        self._part_key(name),
                        body,
                        staged.size,
                        _b64(bytes.fromhex(staged.sha256)),
                        staged.md5,
                        "application/octet-stream",
                    )
        finally:
            self.discard(staged)
        return PartReceived(staged.size, failure)

    async def part(self, name: str) -> PhotoBody:
        """A kept part's bytes, streamed from the bucket."""
        return await self._get(self._part_key(name))

    async def remove_part(self, name: str) -> None:
        s3 = await self._s3()
        async with self._reachable():
            await s3.delete_object(Bucket=self.bucket, Key=self._part_key(name))

    async def parts(self) -> AsyncIterator[StoredPart]:
        """Every kept part under the prefix, with its modification time."""
        s3 = await self._s3()
        folder = f"{self.prefix}uploads/"
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder)
        async with self._reachable():
            async for page in pages:
                for item in page.get("Contents", []):
                    yield StoredPart(item["Key"].removeprefix(folder), item["LastModified"])

    def _part_key(self, name: str) -> str:
        return f"{self.prefix}uploads/{name}"

    async def _s3(self) -> Any:
        """The client, made in the running event loop on first use (its connection pool belongs to that loop)."""
        async with self._opening:
            if self._client is None:
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(get_session().create_client("s3", **self._client_args))
                self._stack = stack
        return self._client

    def _key(self, kind: str, sha256: str) -> str:
        return f"{self.prefix}{kind}/{sha256[:2]}/{sha256}"

    def _rendition_key(self, sha256: str) -> str:
        return self._key("renditions", sha256) + ".jpg"

    @asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        """A store that cannot be reached, or fails on its side, is a bad day (503 + Retry-After), not a bug."""
        try:
            yield
        except ClientError as exc:
            if _status(exc) >= 500 or _code(exc) in ("SlowDown", "RequestTimeout"):
                raise Unavailable("service/photo-store-unavailable", retry_after_s=STORE_RETRY_AFTER_S) from exc
            raise
        except UNREACHABLE as exc:
            raise Unavailable("service/photo-store-unavailable", retry_after_s=STORE_RETRY_AFTER_S) from exc

    async def _put(self, key: str, body: BinaryIO | bytes, size: int, sha: str, md5: bytes, content_type: str) -> None:
        """One PUT the server checks against both digests, then confirmed; a refused or unconfirmed object is gone."""
        s3 = await self._s3()
        try:
            async with self._reachable():
                answer = await s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentLength=size,
                    ContentMD5=_b64(md5),
                    ChecksumSHA256=sha,
                    ContentType=content_type,
                )
        except ClientError as exc:
            if _code(exc) in REFUSED_DIGEST:
                raise ChecksumMismatch(f"the store refused {key}: {_code(exc)}") from exc
            raise
        if _confirms(answer, sha, md5) or await self._holds(key, size, sha, md5):
            return
        async with self._reachable():
            await s3.delete_object(Bucket=self.bucket, Key=key)
        raise ChecksumMismatch(f"the store did not confirm the SHA-256 or MD5 of {key}")

    async def _holds(self, key: str, size: int, sha: str, md5: bytes) -> bool:
        """Whether the object at `key` is there with this size and checksum (one HEAD)."""
        s3 = await self._s3()
        try:
            async with self._reachable():
                head = await s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise
        return head["ContentLength"] == size and _confirms(head, sha, md5)

    async def _unchanged_since(self, sha256: str, cutoff: float) -> bool:
        """Whether the original is still there and not renewed since `cutoff` (one HEAD)."""
        s3 = await self._s3()
        try:
            async with self._reachable():
                head = await s3.head_object(Bucket=self.bucket, Key=self._key("originals", sha256))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise
        return head["LastModified"].timestamp() < cutoff

    async def _get(self, key: str) -> PhotoBody:
        s3 = await self._s3()
        try:
            async with self._reachable():
                answer = await s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING:
                raise PhotoNotStored(key) from None
            raise
        return PhotoBody(size=answer["ContentLength"], chunks=_chunks(answer["Body"]))


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    """The object's bytes as they arrive; the connection goes back to the pool however the reading ends."""
    try:
        async for chunk in body.iter_chunks(READ_CHUNK):
            yield chunk
    finally:
        body.close()


def _confirms(answer: dict[str, Any], sha: str, md5: bytes) -> bool:
    """The store's own word on the bytes: the SHA-256 it checked, or an ETag that is the plain MD5."""
    return answer.get("ChecksumSHA256") == sha or answer.get("ETag", "").strip('"') == md5.hex()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
