"""LocalPhotoStore on a real temporary disk: staging, commit, discard, size limit, clean renditions."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from PIL import Image

from backend.storage import LocalPhotoStore, StagedUpload, UploadTooLarge
from tests.factories import ARNHEM, Factory

MB = 1024 * 1024


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def split(data: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def leftovers(store: LocalPhotoStore) -> list[Path]:
    return sorted((store.root / "incoming").iterdir())


def originals(store: LocalPhotoStore) -> list[Path]:
    return sorted(p for p in (store.root / "originals").rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "photos")


async def stored(store: LocalPhotoStore, data: bytes) -> StagedUpload:
    staged = await store.receive(stream(*split(data)), max_bytes=MB)
    await store.commit(staged)
    return staged


class TestReceiveAndCommit:
    async def test_bytes_land_at_their_content_address(self, store: LocalPhotoStore) -> None:
        data = b"\xff\xd8 not really a photo, the store does not care " * 3000
        staged = await store.receive(stream(*split(data, 1000)), max_bytes=MB)
        assert staged.sha256 == hashlib.sha256(data).hexdigest()
        assert staged.size == len(data)
        assert staged.path.parent == store.root / "incoming" and staged.path.read_bytes() == data
        await store.commit(staged)
        target = store.original_path(staged.sha256)
        assert target == store.root / "originals" / staged.sha256[:2] / staged.sha256
        assert target.read_bytes() == data
        assert leftovers(store) == []
        assert not staged.path.exists()

    async def test_empty_stream_is_staged_with_size_zero(self, store: LocalPhotoStore) -> None:
        staged = await store.receive(stream(), max_bytes=MB)
        assert (staged.size, staged.sha256) == (0, hashlib.sha256(b"").hexdigest())
        store.discard(staged)
        assert leftovers(store) == []

    async def test_committing_the_same_content_twice_is_idempotent(self, store: LocalPhotoStore) -> None:
        data = b"same bytes twice" * 100
        first = await stored(store, data)
        second = await stored(store, data)
        assert first.path != second.path
        assert first.sha256 == second.sha256
        assert originals(store) == [store.original_path(first.sha256)]
        assert store.original_path(first.sha256).read_bytes() == data
        assert leftovers(store) == []

    async def test_commit_of_an_already_committed_upload_is_harmless(self, store: LocalPhotoStore) -> None:
        staged = await stored(store, b"once" * 10)
        await store.commit(staged)
        store.discard(staged)
        assert store.original_path(staged.sha256).read_bytes() == b"once" * 10


class TestDiscard:
    async def test_discard_removes_the_staged_file(self, store: LocalPhotoStore) -> None:
        staged = await store.receive(stream(b"abc", b"def"), max_bytes=MB)
        assert staged.path.exists()
        store.discard(staged)
        assert not staged.path.exists()
        assert leftovers(store) == [] and originals(store) == []

    async def test_discard_twice_is_harmless(self, store: LocalPhotoStore) -> None:
        staged = await store.receive(stream(b"abc"), max_bytes=MB)
        store.discard(staged)
        store.discard(staged)
        assert leftovers(store) == []


class TestSizeLimit:
    async def test_exactly_the_limit_is_accepted(self, store: LocalPhotoStore) -> None:
        staged = await store.receive(stream(b"x" * 600, b"y" * 424), max_bytes=1024)
        assert staged.size == 1024
        store.discard(staged)

    async def test_one_byte_over_raises_and_leaves_nothing(self, store: LocalPhotoStore) -> None:
        with pytest.raises(UploadTooLarge):
            await store.receive(stream(b"x" * 600, b"y" * 425), max_bytes=1024)
        assert leftovers(store) == [] and originals(store) == []

    async def test_stream_is_not_read_past_the_limit(self, store: LocalPhotoStore) -> None:
        consumed = []

        async def endless() -> AsyncIterator[bytes]:
            while True:
                consumed.append(1)
                yield b"z" * 4096

        with pytest.raises(UploadTooLarge):
            await store.receive(endless(), max_bytes=10 * 4096)
        assert len(consumed) == 11
        assert leftovers(store) == []

    async def test_a_failing_stream_leaves_nothing(self, store: LocalPhotoStore) -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial"
            raise ConnectionResetError

        with pytest.raises(ConnectionResetError):
            await store.receive(broken(), max_bytes=MB)
        assert leftovers(store) == []


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
    async def test_rendition_is_a_jpeg_without_exif(self, store: LocalPhotoStore, make: Factory, fmt: str) -> None:
        data = make.photo("cabinet_overview", gps=ARNHEM, size=(800, 600), fmt=fmt)
        assert Image.open(io.BytesIO(data)).getexif(), "the original must carry EXIF for this test to mean anything"
        staged = await stored(store, data)
        rendition = await store.rendition(staged.sha256)
        assert rendition[:3] == b"\xff\xd8\xff"
        image = Image.open(io.BytesIO(rendition))
        assert image.format == "JPEG" and image.size == (800, 600)
        assert not image.getexif()
        # No APP1 segment (where EXIF and XMP live) in the header. Searching the whole file for b"GPS"
        # would be flaky: compressed pixel data contains any 3 bytes now and then.
        assert 0xE1 not in _header_markers(rendition)

    async def test_rendition_is_upright(self, store: LocalPhotoStore, make: Factory) -> None:
        data = make.photo("cabinet_overview", size=(800, 600), orientation=6)
        assert Image.open(io.BytesIO(data)).size == (600, 800)  # stored sideways, EXIF says rotate
        staged = await stored(store, data)
        assert Image.open(io.BytesIO(await store.rendition(staged.sha256))).size == (800, 600)

    async def test_rendition_drops_bytes_trailing_the_image(self, store: LocalPhotoStore, make: Factory) -> None:
        secret = b"TRAILING-SECRET-PAYLOAD"
        staged = await stored(store, make.photo("cabinet_overview", size=(800, 600)) + secret)
        assert secret not in await store.rendition(staged.sha256)

    async def test_rendition_is_cached(self, store: LocalPhotoStore, make: Factory) -> None:
        staged = await stored(store, make.photo("cabinet_overview", size=(800, 600), fmt="PNG"))
        first = await store.rendition(staged.sha256)
        assert (store.root / "renditions" / f"{staged.sha256}.jpg").read_bytes() == first
        assert await store.rendition(staged.sha256) == first
        assert not list((store.root / "renditions").glob("*.part"))
