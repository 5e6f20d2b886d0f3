"""Both photo stores keep resumable uploads' parts the same way (a folder and a bucket on a real S3 server):
what arrived is kept even when the body fails part way, read back whole, listed, and removed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from backend.storage import PhotoNotStored, UploadInterrupted, UploadTooLarge
from tests.storage.conftest import Subject


async def cut_after(*chunks: bytes) -> AsyncIterator[bytes]:
    """A body that breaks off after `chunks` (the client went away)."""
    for chunk in chunks:
        yield chunk
    raise UploadInterrupted


class TestParts:
    async def test_what_arrived_before_the_body_broke_off_is_kept_and_read_back(self, subject: Subject) -> None:
        name = f"{uuid.uuid4()}/000000000000.lease"
        got = await subject.store.receive_part(name, cut_after(b"a" * 70_000, b"b" * 30_000), max_bytes=1_000_000)
        assert got.size == 100_000 and isinstance(got.failure, UploadInterrupted)
        body = await subject.store.part(name)
        assert body.size == 100_000 and b"".join([c async for c in body.chunks]) == b"a" * 70_000 + b"b" * 30_000
        assert name in [p.name async for p in subject.store.parts()]
        assert subject.staged_files() == []  # nothing left where it was staged
        await subject.store.remove_part(name)
        assert name not in [p.name async for p in subject.store.parts()]
        with pytest.raises(PhotoNotStored):
            await subject.store.part(name)

    async def test_nothing_is_kept_of_an_empty_or_too_long_body(self, subject: Subject) -> None:
        empty = f"{uuid.uuid4()}/000000000000.lease"
        assert (await subject.store.receive_part(empty, cut_after(), max_bytes=10)).size == 0
        with pytest.raises(UploadTooLarge):
            await subject.store.receive_part(f"{uuid.uuid4()}/000000000000.lease", cut_after(b"x" * 11), max_bytes=10)
        assert [p.name async for p in subject.store.parts()] == [] and subject.staged_files() == []
