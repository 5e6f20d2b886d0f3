"""Photo bytes: content-addressed by SHA-256, durable before the database row is committed.

An upload is streamed to a temporary file while it is hashed and counted; only after it has been
validated is it fsynced, renamed to its content address and the directory fsynced, so a 201
means the photo survives a crash. Renditions for non-specialists are re-encoded from pixels only:
no EXIF (no location), no bytes trailing the image.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageOps

from backend.validation.photo import CONTENT_TYPES  # noqa: F401 - registers the HEIF opener


class UploadTooLarge(Exception):
    """The stream grew beyond the allowed size; the partial file is already removed."""


class UploadInterrupted(Exception):
    """The client went away before the body was complete; the partial file is already removed."""


@dataclass(frozen=True, slots=True)
class StagedUpload:
    """A received upload not yet committed to the store."""

    path: Path
    sha256: str
    size: int


class PhotoStore(Protocol):
    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> StagedUpload: ...
    async def commit(self, staged: StagedUpload) -> None: ...
    def discard(self, staged: StagedUpload) -> None: ...
    def original_path(self, sha256: str) -> Path: ...
    async def rendition(self, sha256: str) -> bytes: ...


class LocalPhotoStore:
    """Photos on a local disk under `root/originals/ab/abcdef...`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / "incoming"
        self._originals = root / "originals"
        self._renditions = root / "renditions"
        for folder in (self._incoming, self._originals, self._renditions):
            folder.mkdir(parents=True, exist_ok=True)

    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> StagedUpload:
        """Stream to a temporary file, hashing as it arrives; refuse past `max_bytes`."""
        fd, name = tempfile.mkstemp(dir=self._incoming, suffix=".part")
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StagedUpload(path=path, sha256=digest.hexdigest(), size=size)

    async def commit(self, staged: StagedUpload) -> None:
        """Make the staged file durable at its content address (idempotent)."""
        await asyncio.to_thread(self._commit_sync, staged)

    def _commit_sync(self, staged: StagedUpload) -> None:
        target = self.original_path(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(staged.path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(staged.path, target)
        _fsync_dir(target.parent)

    def discard(self, staged: StagedUpload) -> None:
        staged.path.unlink(missing_ok=True)

    def original_path(self, sha256: str) -> Path:
        return self._originals / sha256[:2] / sha256

    async def rendition(self, sha256: str) -> bytes:
        """A JPEG re-encoded from the pixels, upright, without EXIF; made on first request, then cached."""
        cached = self._renditions / f"{sha256}.jpg"
        if cached.exists():
            return cached.read_bytes()
        data = await asyncio.to_thread(_render_clean, self.original_path(sha256))
        fd, tmp = tempfile.mkstemp(dir=self._renditions, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, cached)  # a cache: losing it in a crash costs only a re-render
        return data


def _render_clean(original: Path) -> bytes:
    with Image.open(original, formats=list(CONTENT_TYPES)) as img:
        upright = ImageOps.exif_transpose(img).convert("RGB")
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=88)  # no exif= argument: nothing is carried over
    return out.getvalue()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
