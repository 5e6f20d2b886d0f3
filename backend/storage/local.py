"""Photos in a local folder (the embedded default): `root/originals/ab/abcdef...`; a resumable upload's
parts in `root/uploads/<upload id>/<part>` (backend/uploads).

A commit fsyncs the staged file, renames it to its content address and fsyncs the directory, so a
201 means the photo survives a crash. Only this host can serve such photos: for several, use S3.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from backend.errors import Unavailable
from backend.storage.base import (
    STORE_RETRY_AFTER_S,
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
    file_chunks,
    render_clean,
    stage,
    stage_until_failure,
    stale,
    sweep_partials,
    verify_staged,
)


class LocalPhotoStore:
    """Content-addressed photos on this host's disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / "incoming"
        self._originals = root / "originals"
        self._renditions = root / "renditions"
        self._uploads = root / "uploads"  # resumable uploads' parts: uploads/<upload id>/<part>
        for folder in (self._incoming, self._originals, self._renditions, self._uploads):
            folder.mkdir(parents=True, exist_ok=True)
        _prefix_folders(self._originals)
        self._rendering = OncePerKey()

    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> StagedUpload:
        """Stream to `incoming/*.part`, hashing as it arrives; refuse past `max_bytes`."""
        return await stage(chunks, max_bytes, self._incoming)

    async def commit(self, staged: StagedUpload) -> bool:
        """Make the staged file durable at its content address (idempotent); True if this call wrote it."""
        return await asyncio.to_thread(self._commit_sync, staged)

    def _commit_sync(self, staged: StagedUpload) -> bool:
        target = self.original_path(staged.sha256)
        try:
            # Stored already: renew its time, so the orphan sweep's grace covers this upload's row
            # too. A sweep taking the file away this instant leaves nothing to renew: write it then.
            os.utime(target)
            staged.path.unlink(missing_ok=True)
            return False
        except FileNotFoundError:
            pass
        verify_staged(staged)  # the bytes about to become durable are the bytes that were checked
        if not target.parent.is_dir():  # made at start-up (_prefix_folders); removed by hand since
            target.parent.mkdir(exist_ok=True)
            _fsync_dir(self._originals)  # the new prefix folder's own entry must survive a crash too
        with open(staged.path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(staged.path, target)
        _fsync_dir(target.parent)
        return True

    def discard(self, staged: StagedUpload) -> None:
        staged.path.unlink(missing_ok=True)

    async def remove(self, sha256: str) -> None:
        """Take back a committed original whose row was never written (and its cached rendition)."""
        self.original_path(sha256).unlink(missing_ok=True)
        self._rendition_path(sha256).unlink(missing_ok=True)

    def original_path(self, sha256: str) -> Path:
        return self._originals / sha256[:2] / sha256

    def _rendition_path(self, sha256: str) -> Path:
        return self._renditions / f"{sha256}.jpg"

    async def original(self, sha256: str) -> PhotoBody:
        """The original upload, EXIF included, streamed from disk."""
        path = self._existing(sha256)
        return PhotoBody(size=path.stat().st_size, chunks=file_chunks(path))

    @asynccontextmanager
    async def original_file(self, sha256: str) -> AsyncIterator[Path]:
        """The original as a local file, for work that decodes it (the file itself: nothing to copy)."""
        yield self._existing(sha256)

    async def rendition(self, sha256: str) -> PhotoBody:
        """The clean JPEG (backend.storage.base.render_clean): made on the first request (never at upload),
        once however many ask at the same moment, then cached on disk."""
        cached = self._rendition_path(sha256)
        if not cached.exists():
            await self._rendering.run(sha256, lambda: asyncio.to_thread(self._render, sha256, cached))
        return PhotoBody(size=cached.stat().st_size, chunks=file_chunks(cached))

    def _render(self, sha256: str, cached: Path) -> None:
        if cached.exists():  # made by the run that just ended
            return
        data = render_clean(self._existing(sha256))
        fd, tmp = tempfile.mkstemp(dir=self._renditions, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, cached)  # a cache: losing it in a crash costs only a re-render (no fsync)

    async def originals(self) -> AsyncIterator[StoredPhoto]:
        """Every committed original, with its size and modification time."""
        for path in self._originals.glob("*/*"):
            try:
                st = path.stat()
            except FileNotFoundError:  # swept meanwhile
                continue
            yield StoredPhoto(path.name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    async def sweep(self, in_use: InUse, cutoff: float) -> SweepReport:
        """Remove `*.part` files and originals without a row last modified before `cutoff` (epoch s).

        Safe while other workers upload and sweep: an original is first renamed away (one sweeper
        wins, the others find it gone), then judged again by its time and `in_use`; an upload of the
        same bytes renews that time (`commit`) before writing its row, so the file is put back."""
        partials = await asyncio.to_thread(sweep_partials, (self._incoming, self._renditions), cutoff)
        orphans = 0
        for batch in batches(await asyncio.to_thread(self._stale_originals, cutoff)):
            used = await in_use(batch)
            for sha256 in batch:
                if sha256 not in used:
                    orphans += await self._take_orphan(self.original_path(sha256), sha256, in_use, cutoff)
        for held in await asyncio.to_thread(stale, self._incoming, "*.orphan", cutoff, by_ctime=True):
            # A sweeper stopped between renaming an original away and judging it: judge it now.
            orphans += await self._judge(held, held.name.partition(".")[0], in_use, cutoff)
        return SweepReport(partials=partials, orphans=orphans)

    async def ping(self) -> None:
        """The folder is there and writable (a missing mount shows in readiness, not in the first upload)."""
        if not os.access(self._originals, os.W_OK):
            raise Unavailable("service/photo-store-unavailable", retry_after_s=STORE_RETRY_AFTER_S)

    async def aclose(self) -> None:
        """Nothing to release."""

    async def receive_part(self, name: str, chunks: AsyncIterable[bytes], max_bytes: int) -> PartReceived:
        """Stream to `incoming/*.part`, keep what arrived even if the stream failed, and make it durable
        at `uploads/<name>` (fsync, rename, directory fsync): its offset is then acknowledged."""
        staged, failure = await stage_until_failure(chunks, max_bytes, self._incoming)
        if staged.size:
            await asyncio.to_thread(self._keep_part, self._uploads / name, staged)
        else:
            self.discard(staged)
        return PartReceived(staged.size, failure)

    def _keep_part(self, target: Path, staged: StagedUpload) -> None:
        if not target.parent.is_dir():
            target.parent.mkdir(exist_ok=True)
            _fsync_dir(self._uploads)
        with open(staged.path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(staged.path, target)
        _fsync_dir(target.parent)

    async def part(self, name: str) -> PhotoBody:
        """A kept part's bytes, streamed from disk."""
        path = self._uploads / name
        if not path.is_file():
            raise PhotoNotStored(name)
        return PhotoBody(size=path.stat().st_size, chunks=file_chunks(path))

    async def remove_part(self, name: str) -> None:
        """Remove a part, and its upload's folder once that is empty."""
        path = self._uploads / name
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:  # other parts still in it, or removed already
            pass

    async def parts(self) -> AsyncIterator[StoredPart]:
        """Every kept part, with its modification time."""
        for path in self._uploads.glob("*/*"):
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:  # removed meanwhile
                continue
            yield StoredPart(f"{path.parent.name}/{path.name}", datetime.fromtimestamp(modified, UTC))

    def _existing(self, sha256: str) -> Path:
        path = self.original_path(sha256)
        if not path.is_file():
            raise PhotoNotStored(sha256)
        return path

    def _stale_originals(self, cutoff: float) -> list[str]:
        return [path.name for prefix in self._originals.iterdir() for path in stale(prefix, "*", cutoff)]

    async def _take_orphan(self, original: Path, sha256: str, in_use: InUse, cutoff: float) -> int:
        held = self._incoming / f"{sha256}.{os.urandom(6).hex()}.orphan"
        try:
            os.rename(original, held)  # atomic: of several sweepers exactly one holds it now
        except FileNotFoundError:
            return 0
        return await self._judge(held, sha256, in_use, cutoff)

    async def _judge(self, held: Path, sha256: str, in_use: InUse, cutoff: float) -> int:
        """Delete a held original, or put it back when an upload renewed it or a row now uses it."""
        try:
            renewed = held.stat().st_mtime >= cutoff
        except FileNotFoundError:
            return 0
        if renewed or sha256 in await in_use([sha256]):
            try:
                os.link(held, self.original_path(sha256))
            except FileExistsError:  # the upload wrote the bytes anew meanwhile
                pass
            held.unlink(missing_ok=True)
            return 0
        held.unlink(missing_ok=True)
        self._rendition_path(sha256).unlink(missing_ok=True)
        return 1


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prefix_folders(originals: Path) -> None:
    """Every prefix folder `originals/00`..`ff`, made once and made durable, so that a commit makes one
    fsync for the file and one for its folder (a prefix folder made at the first photo under it cost a
    third, of `originals`: nearly every upload into a young store)."""
    made = False
    for prefix in range(256):
        folder = originals / f"{prefix:02x}"
        if not folder.is_dir():
            folder.mkdir(exist_ok=True)
            made = True
    if made:
        _fsync_dir(originals)
