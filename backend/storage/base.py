"""What both photo stores share: the protocol, staging an upload, checking it before commit, renditions."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PIL import Image, ImageOps

from backend.validation.photo import CONTENT_TYPES  # noqa: F401 - registers the HEIF opener

READ_CHUNK = 256 * 1024  # bytes per read when a stored photo is re-hashed, copied or served
STORE_RETRY_AFTER_S = 5  # the Retry-After of a 503 while the photo store cannot be reached
T = TypeVar("T")


class UploadTooLarge(Exception):
    """The stream grew beyond the allowed size; the partial file is already removed."""


class UploadInterrupted(Exception):
    """The client went away before the body was complete; the partial file is already removed."""


class ChecksumMismatch(Exception):
    """Bytes are not what their SHA-256 address says: nothing was committed (a fault on our side, not the client's)."""


class PhotoNotStored(LookupError):
    """A photo row names bytes the store does not hold (a restore from mismatched backups)."""


@dataclass(frozen=True, slots=True)
class StagedUpload:
    """A received upload not yet committed to the store: a local temporary file and what it hashed to."""

    path: Path
    sha256: str
    size: int
    md5: bytes | None = None  # hashed while streaming too where the store sends it (S3's Content-MD5)


@dataclass(frozen=True, slots=True)
class PhotoBody:
    """Stored bytes to serve: their length, and their chunks, read from the store as they are sent."""

    size: int
    chunks: AsyncIterator[bytes]


# Which of these SHA-256s a photo row refers to (the store itself knows nothing of rows).
InUse = Callable[[list[str]], Awaitable[set[str]]]
SWEEP_BATCH = 500  # content addresses per in_use() question


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep removed."""

    partials: int  # unfinished uploads and renditions (`*.part`)
    orphans: int  # originals no photo row refers to


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A committed original as the store lists it (what the orphan sweep compares with the photo rows)."""

    sha256: str
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part of a resumable upload as the store lists it (what the upload sweep compares with part rows)."""

    name: str
    modified: datetime


@dataclass(frozen=True, slots=True)
class PartReceived:
    """What one request brought of a resumable upload: `size` bytes kept (durable) under the part's name,
    and why the stream ended early, if it did (raise it once the bytes are kept)."""

    size: int
    failure: Exception | None


class PhotoStore(Protocol):
    """Content-addressed photo bytes; `commit` returns only once the bytes are verified and durable."""

    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> StagedUpload: ...
    async def commit(self, staged: StagedUpload) -> bool: ...
    def discard(self, staged: StagedUpload) -> None: ...
    async def remove(self, sha256: str) -> None: ...
    async def original(self, sha256: str) -> PhotoBody: ...
    def original_file(self, sha256: str) -> AbstractAsyncContextManager[Path]: ...
    async def rendition(self, sha256: str) -> PhotoBody: ...
    def originals(self) -> AsyncIterator[StoredPhoto]: ...
    async def sweep(self, in_use: InUse, cutoff: float) -> SweepReport: ...
    async def ping(self) -> None: ...
    async def aclose(self) -> None: ...
    # Resumable uploads (backend/uploads): their bytes as parts, one per request, named by the caller.
    async def receive_part(self, name: str, chunks: AsyncIterable[bytes], max_bytes: int) -> PartReceived: ...
    async def part(self, name: str) -> PhotoBody: ...
    async def remove_part(self, name: str) -> None: ...
    def parts(self) -> AsyncIterator[StoredPart]: ...


async def stage(chunks: AsyncIterable[bytes], max_bytes: int, folder: Path, *, md5: bool = False) -> StagedUpload:
    """Stream to a temporary file in `folder`, hashing as it arrives (SHA-256, and MD5 if asked: the
    body is read once); refuse past `max_bytes`."""
    fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
    path = Path(name)
    digest = hashlib.sha256()
    md5_digest = hashlib.md5() if md5 else None
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge
                digest.update(chunk)
                if md5_digest is not None:
                    md5_digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedUpload(
        path=path, sha256=digest.hexdigest(), size=size, md5=md5_digest.digest() if md5_digest else None
    )


async def stage_until_failure(
    chunks: AsyncIterable[bytes], max_bytes: int, folder: Path, *, md5: bool = False
) -> tuple[StagedUpload, Exception | None]:
    """`stage`, but a stream that fails (the client went away, the body stalled) keeps what arrived:
    the staged file and the failure. A resumable upload resumes from those bytes."""
    failures: list[Exception] = []

    async def until_failure() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        except UploadTooLarge:
            raise
        except Exception as exc:
            failures.append(exc)

    staged = await stage(until_failure(), max_bytes, folder, md5=md5)
    return staged, failures[0] if failures else None


def verify_staged(staged: StagedUpload) -> None:
    """Re-read the staged file: it must still hash to its address (ChecksumMismatch if not).

    SHA-256 only (~0.5 ms a MB here, off the event loop): the bytes made durable are the bytes that
    were hashed while streaming and then checked."""
    with open(staged.path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    if sha256 != staged.sha256 or size != staged.size:
        raise ChecksumMismatch(f"staged file {staged.path.name} no longer hashes to {staged.sha256}")


def require_size(staged: StagedUpload) -> None:
    """The staged file still has the length that was hashed (a store that checks the bytes itself)."""
    if staged.path.stat().st_size != staged.size:
        raise ChecksumMismatch(f"staged file {staged.path.name} is no longer {staged.size} bytes long")


def batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), SWEEP_BATCH):
        yield items[start : start + SWEEP_BATCH]


def stale(folder: Path, pattern: str, cutoff: float, by_ctime: bool = False) -> list[Path]:
    """Files in `folder` matching `pattern` last modified (or, by_ctime, renamed) before `cutoff` (epoch s)."""
    found = []
    for path in folder.glob(pattern):
        try:
            st = path.stat()
        except FileNotFoundError:  # finished or swept meanwhile
            continue
        if (st.st_ctime if by_ctime else st.st_mtime) < cutoff:
            found.append(path)
    return found


def sweep_partials(folders: tuple[Path, ...], cutoff: float) -> int:
    """Remove stale `*.part` files (uploads and copies a crash interrupted); how many."""
    removed = 0
    for folder in folders:
        for path in stale(folder, "*.part", cutoff):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    """A local file's bytes in chunks, each read off the event loop."""
    with open(path, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
            yield chunk


async def bytes_chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


class OncePerKey:
    """Concurrent callers for one key share one run of the work (in this process): the first GETs of a
    new photo's rendition, arriving together, decode and re-encode it once."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(make())
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        # A caller that goes away does not cancel the work the others wait for.
        return await asyncio.shield(running)


def render_clean(original: Path) -> bytes:
    """A JPEG re-encoded from the pixels, upright, without EXIF (no location) or bytes trailing the image."""
    with Image.open(original, formats=list(CONTENT_TYPES)) as img:
        upright = ImageOps.exif_transpose(img).convert("RGB")
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=88)  # no exif= argument: nothing is carried over
    return out.getvalue()
