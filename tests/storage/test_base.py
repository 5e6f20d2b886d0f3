"""What the stores share (backend/storage/base.py): staging hashes as the body streams in; one run
of a rendition for callers that ask at the same moment."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.storage.base import OncePerKey, stage


async def chunks(data: bytes, size: int = 7_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


class TestStage:
    async def test_sha256_and_md5_are_taken_while_streaming(self, tmp_path: Path) -> None:
        data = bytes(range(256)) * 1000
        staged = await stage(chunks(data), 1 << 20, tmp_path, md5=True)
        assert staged.sha256 == hashlib.sha256(data).hexdigest()
        assert staged.md5 == hashlib.md5(data).digest()  # what S3's Content-MD5 carries: no second read
        assert (staged.size, staged.path.read_bytes()) == (len(data), data)

    async def test_md5_only_when_asked(self, tmp_path: Path) -> None:
        staged = await stage(chunks(b"abc" * 100), 1 << 20, tmp_path)
        assert staged.md5 is None and staged.sha256 == hashlib.sha256(b"abc" * 100).hexdigest()


class TestOncePerKey:
    async def test_callers_at_the_same_moment_share_one_run(self) -> None:
        once, runs = OncePerKey(), []

        async def make() -> str:
            runs.append(1)
            await asyncio.sleep(0.05)
            return "made"

        assert await asyncio.gather(*(once.run("a", make) for _ in range(5))) == ["made"] * 5
        assert len(runs) == 1
        assert await once.run("a", make) == "made" and len(runs) == 2  # a later caller runs it again

    async def test_other_keys_run_on_their_own(self) -> None:
        once, runs = OncePerKey(), []

        async def make(key: str) -> str:
            runs.append(key)
            await asyncio.sleep(0.01)
            return key

        assert await asyncio.gather(once.run("a", lambda: make("a")), once.run("b", lambda: make("b"))) == ["a", "b"]
        assert sorted(runs) == ["a", "b"]

    async def test_a_caller_that_goes_away_does_not_cancel_the_others(self) -> None:
        once = OncePerKey()

        async def make() -> str:
            await asyncio.sleep(0.05)
            return "made"

        first = asyncio.ensure_future(once.run("a", make))
        second = asyncio.ensure_future(once.run("a", make))
        await asyncio.sleep(0.01)
        first.cancel()
        assert await second == "made"
        with pytest.raises(asyncio.CancelledError):
            await first

    async def test_a_failure_reaches_every_caller_and_is_not_kept(self) -> None:
        once, runs = OncePerKey(), []

        async def fail() -> str:
            runs.append(1)
            await asyncio.sleep(0.01)
            raise OSError("disk full")

        results = await asyncio.gather(once.run("a", fail), once.run("a", fail), return_exceptions=True)
        assert [type(r) for r in results] == [OSError, OSError] and len(runs) == 1
        with pytest.raises(OSError):
            await once.run("a", fail)
        assert len(runs) == 2
