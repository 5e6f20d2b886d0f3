"""Both photo stores, the same behaviour: a local folder and a bucket on a real S3 server (SeaweedFS).

Receive, commit (verified), discard, limits, serving, renditions, the orphan sweep; each test runs
once per store (`subject` in conftest.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable

import pytest
from PIL import Image

from backend.storage import ChecksumMismatch, PhotoBody, PhotoNotStored, StagedUpload, UploadTooLarge
from backend.storage.base import READ_CHUNK
from tests.factories import ARNHEM, Factory
from tests.storage.conftest import Subject

MB = 1024 * 1024


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def split(data: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def stored(s: Subject, data: bytes) -> StagedUpload:
    staged = await s.store.receive(stream(*split(data)), max_bytes=32 * MB)
    assert await s.store.commit(staged)
    return staged


async def read(body: PhotoBody) -> bytes:
    data = b"".join([chunk async for chunk in body.chunks])
    assert len(data) == body.size
    return data


async def originals(s: Subject) -> dict[str, int]:
    return {p.sha256: p.size async for p in s.store.originals()}


class TestReceiveAndCommit:
    async def test_bytes_land_at_their_content_address(self, subject: Subject) -> None:
        data = b"\xff\xd8 not really a photo, the store does not care " * 3000
        staged = await subject.store.receive(stream(*split(data, 1000)), max_bytes=MB)
        assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size == len(data)
        assert staged.path.parent == subject.staging and staged.path.read_bytes() == data
        assert await subject.store.commit(staged) is True
        sha = staged.sha256
        assert await subject.objects() == [f"originals/{sha[:2]}/{sha}"]  # nothing staged is left
        assert await originals(subject) == {sha: len(data)}
        assert await read(await subject.store.original(sha)) == data

    async def test_empty_stream_is_staged_with_size_zero(self, subject: Subject) -> None:
        staged = await subject.store.receive(stream(), max_bytes=MB)
        assert (staged.size, staged.sha256) == (0, hashlib.sha256(b"").hexdigest())
        subject.store.discard(staged)
        assert await subject.objects() == []

    async def test_committing_the_same_content_twice_keeps_one_copy(self, subject: Subject) -> None:
        data = b"same bytes twice" * 100
        first = await stored(subject, data)
        second = await subject.store.receive(stream(data), max_bytes=MB)
        assert second.path != first.path and second.sha256 == first.sha256
        await subject.store.commit(second)
        assert await originals(subject) == {first.sha256: len(data)}
        assert await read(await subject.store.original(first.sha256)) == data
        assert subject.staged_files() == []

    async def test_a_staged_file_changed_after_its_checks_is_refused(self, subject: Subject) -> None:
        """The bytes made durable must be the bytes that were validated: a flipped bit is a wrong checksum."""
        data = os.urandom(300_000)
        staged = await subject.store.receive(stream(data), max_bytes=MB)
        with open(staged.path, "r+b") as f:
            f.seek(150_000)
            f.write(bytes([data[150_000] ^ 0x01]))
        with pytest.raises(ChecksumMismatch):
            await subject.store.commit(staged)
        subject.store.discard(staged)
        assert await subject.objects() == []

    async def test_a_staged_file_changed_but_as_long_is_refused(self, subject: Subject) -> None:
        """The same length, other bytes: refused at commit (the local store re-hashes; on S3 the server
        checks the bytes it receives against the digests taken while they streamed in)."""
        data = os.urandom(200_000)
        staged = await subject.store.receive(stream(*split(data)), max_bytes=MB)
        staged.path.write_bytes(os.urandom(200_000))
        with pytest.raises(ChecksumMismatch):
            await subject.store.commit(staged)
        subject.store.discard(staged)
        assert [o for o in await subject.objects() if o.startswith("originals/")] == []

    async def test_a_truncated_staged_file_is_refused(self, subject: Subject) -> None:
        staged = await subject.store.receive(stream(b"a" * 5000), max_bytes=MB)
        os.truncate(staged.path, 4000)
        with pytest.raises(ChecksumMismatch):
            await subject.store.commit(staged)
        subject.store.discard(staged)
        assert await subject.objects() == []


class TestDiscard:
    async def test_discard_removes_the_staged_file(self, subject: Subject) -> None:
        staged = await subject.store.receive(stream(b"abc", b"def"), max_bytes=MB)
        assert staged.path.exists()
        subject.store.discard(staged)
        subject.store.discard(staged)  # twice is harmless
        assert await subject.objects() == []


class TestLimits:
    async def test_exactly_the_limit_is_accepted(self, subject: Subject) -> None:
        staged = await subject.store.receive(stream(b"x" * 600, b"y" * 424), max_bytes=1024)
        assert staged.size == 1024
        subject.store.discard(staged)

    async def test_one_byte_over_raises_and_leaves_nothing(self, subject: Subject) -> None:
        with pytest.raises(UploadTooLarge):
            await subject.store.receive(stream(b"x" * 600, b"y" * 425), max_bytes=1024)
        assert await subject.objects() == []

    async def test_stream_is_not_read_past_the_limit(self, subject: Subject) -> None:
        consumed = []

        async def endless() -> AsyncIterator[bytes]:
            while True:
                consumed.append(1)
                yield b"z" * 4096

        with pytest.raises(UploadTooLarge):
            await subject.store.receive(endless(), max_bytes=10 * 4096)
        assert len(consumed) == 11
        assert await subject.objects() == []

    async def test_an_interrupted_stream_leaves_nothing(self, subject: Subject) -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial"
            raise ConnectionResetError

        with pytest.raises(ConnectionResetError):
            await subject.store.receive(broken(), max_bytes=MB)
        assert await subject.objects() == []

    async def test_a_large_photo_is_never_held_whole_in_memory(self, subject: Subject) -> None:
        """20 MB in and out: Python never holds more than a few chunks of it at once."""
        data = os.urandom(20 * MB)
        chunks = split(data, 256 * 1024)
        del data
        await subject.store.ping()  # an S3 client loads its service model on first use: not photo bytes
        tracemalloc.start()
        try:
            staged = await subject.store.receive(stream(*chunks), max_bytes=32 * MB)
            del chunks
            tracemalloc.reset_peak()
            await subject.store.commit(staged)
            _, commit_peak = tracemalloc.get_traced_memory()
            body = await subject.store.original(staged.sha256)
            tracemalloc.reset_peak()
            size = 0
            async for chunk in body.chunks:
                size += len(chunk)
            _, serve_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert size == 20 * MB
        assert commit_peak < 4 * MB, commit_peak
        assert serve_peak < 4 * MB, serve_peak


class TestServe:
    async def test_an_original_is_streamed_in_chunks(self, subject: Subject) -> None:
        data = os.urandom(3 * READ_CHUNK + 17)
        staged = await stored(subject, data)
        body = await subject.store.original(staged.sha256)
        chunks = [chunk async for chunk in body.chunks]
        assert len(chunks) > 1 and b"".join(chunks) == data and body.size == len(data)

    async def test_an_original_file_is_there_while_it_is_used(self, subject: Subject) -> None:
        data = os.urandom(100_000)
        staged = await stored(subject, data)
        async with subject.store.original_file(staged.sha256) as path:
            assert path.read_bytes() == data
        assert subject.staged_files() == []  # a copy (S3) is removed afterwards
        assert await read(await subject.store.original(staged.sha256)) == data

    async def test_bytes_it_does_not_hold_are_not_stored(self, subject: Subject) -> None:
        missing = hashlib.sha256(b"never stored").hexdigest()
        with pytest.raises(PhotoNotStored):
            await subject.store.original(missing)
        with pytest.raises(PhotoNotStored):
            await subject.store.rendition(missing)

    async def test_remove_takes_the_original_and_its_rendition(self, subject: Subject, make: Factory) -> None:
        staged = await stored(subject, make.photo("cabinet_overview", size=(400, 300)))
        await subject.store.rendition(staged.sha256)
        assert len(await subject.objects()) == 2
        await subject.store.remove(staged.sha256)
        await subject.store.remove(staged.sha256)  # twice is harmless
        assert await subject.objects() == []

    async def test_it_answers_when_reachable(self, subject: Subject) -> None:
        await subject.store.ping()


def _header_markers(jpeg: bytes) -> list[int]:
    """The marker bytes of the JPEG segments before the image data (start of scan)."""
    markers, i = [], 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker = jpeg[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        i += 2 + int.from_bytes(jpeg[i + 2 : i + 4], "big")
    return markers


class TestRendition:
    @pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
    async def test_rendition_is_a_jpeg_without_exif(self, subject: Subject, make: Factory, fmt: str) -> None:
        data = make.photo("cabinet_overview", gps=ARNHEM, size=(800, 600), fmt=fmt)
        assert Image.open(io.BytesIO(data)).getexif(), "the original must carry EXIF for this test to mean anything"
        staged = await stored(subject, data)
        rendition = await read(await subject.store.rendition(staged.sha256))
        assert rendition[:3] == b"\xff\xd8\xff"
        image = Image.open(io.BytesIO(rendition))
        assert image.format == "JPEG" and image.size == (800, 600)
        assert not image.getexif()
        # No APP1 segment (where EXIF and XMP live) in the header. Searching the whole file for b"GPS"
        # would be flaky: compressed pixel data contains any 3 bytes now and then.
        assert 0xE1 not in _header_markers(rendition)

    async def test_rendition_is_upright(self, subject: Subject, make: Factory) -> None:
        data = make.photo("cabinet_overview", size=(800, 600), orientation=6)
        assert Image.open(io.BytesIO(data)).size == (600, 800)  # stored sideways, EXIF says rotate
        staged = await stored(subject, data)
        assert Image.open(io.BytesIO(await read(await subject.store.rendition(staged.sha256)))).size == (800, 600)

    async def test_rendition_drops_bytes_trailing_the_image(self, subject: Subject, make: Factory) -> None:
        secret = b"TRAILING-SECRET-PAYLOAD"
        staged = await stored(subject, make.photo("cabinet_overview", size=(800, 600)) + secret)
        assert secret not in await read(await subject.store.rendition(staged.sha256))

    async def test_commit_makes_no_rendition_the_first_request_makes_it_once(
        self, subject: Subject, make: Factory
    ) -> None:
        """Renditions are made on the first GET, not at upload; first GETs arriving together share one."""
        staged = await stored(subject, make.photo("cabinet_overview", gps=ARNHEM, size=(1600, 1200)))
        sha = staged.sha256
        assert await subject.objects() == [f"originals/{sha[:2]}/{sha}"]  # the upload made only the original
        bodies = await asyncio.gather(*(subject.store.rendition(sha) for _ in range(6)))
        served = [await read(body) for body in bodies]
        assert len(set(served)) == 1 and not Image.open(io.BytesIO(served[0])).getexif()
        objects = await subject.objects()
        assert len(objects) == 2 and not [o for o in objects if o.endswith(".part")], objects

    async def test_rendition_is_cached_in_the_store(self, subject: Subject, make: Factory) -> None:
        staged = await stored(subject, make.photo("cabinet_overview", size=(800, 600), fmt="PNG"))
        first = await read(await subject.store.rendition(staged.sha256))
        sha = staged.sha256
        assert len(await subject.objects()) == 2 and subject.staged_files() == []
        await subject.drop_original(sha)  # served from the cache: the original is not read again
        assert await read(await subject.store.rendition(sha)) == first


class TestSweep:
    async def test_an_old_original_without_a_row_is_removed(self, subject: Subject, make: Factory) -> None:
        orphan = await stored(subject, make.photo("cabinet_overview", size=(400, 300)))
        await subject.store.rendition(orphan.sha256)
        kept = await stored(subject, b"a photo a row refers to")

        async def in_use(sha256s: list[str]) -> set[str]:
            return {kept.sha256} & set(sha256s)

        report = await subject.store.sweep(in_use, cutoff=time.time() + 60)  # everything is "old"
        assert (report.partials, report.orphans) == (0, 1)
        assert await originals(subject) == {kept.sha256: len(b"a photo a row refers to")}
        assert len(await subject.objects()) == 1  # the orphan's rendition went with it

    async def test_what_is_newer_than_the_grace_is_kept(self, subject: Subject) -> None:
        staged = await stored(subject, b"uploaded a moment ago")
        partial = await subject.store.receive(stream(b"an upload in progress"), max_bytes=MB)

        async def nothing(sha256s: list[str]) -> set[str]:
            return set()

        report = await subject.store.sweep(nothing, cutoff=time.time() - 3600)
        assert (report.partials, report.orphans) == (0, 0)
        assert staged.sha256 in await originals(subject) and partial.path.exists()
        subject.store.discard(partial)

    async def test_stale_partial_uploads_are_removed(self, subject: Subject) -> None:
        partial = await subject.store.receive(stream(b"a crash interrupted this upload"), max_bytes=MB)

        async def nothing(sha256s: list[str]) -> set[str]:
            return set()

        report = await subject.store.sweep(nothing, cutoff=time.time() + 60)
        assert (report.partials, report.orphans) == (1, 0)
        assert not partial.path.exists() and await subject.objects() == []
