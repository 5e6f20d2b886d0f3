"""The folder store's own layout (backend/storage/local.py); what both stores share is in test_stores.py."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from backend.storage.local import LocalPhotoStore


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


class TestPrefixFolders:
    """Every `originals/<first two hex digits>` folder exists from the start, so a commit never makes one
    (and never fsyncs `originals` for it): one fsync for the file, one for its folder."""

    async def test_a_new_store_has_every_prefix_folder(self, tmp_path: Path) -> None:
        store = LocalPhotoStore(tmp_path / "photos")
        folders = sorted(p.name for p in (store.root / "originals").iterdir())
        assert folders == [f"{n:02x}" for n in range(256)]

    async def test_a_commit_finds_its_folder_made(self, tmp_path: Path) -> None:
        store = LocalPhotoStore(tmp_path / "photos")
        prefix_folders = {p: p.stat().st_ino for p in (store.root / "originals").iterdir()}
        data = os.urandom(10_000)
        staged = await store.receive(_body(data), max_bytes=1 << 20)
        assert await store.commit(staged)
        target = store.original_path(hashlib.sha256(data).hexdigest())
        assert target.read_bytes() == data
        assert {p: p.stat().st_ino for p in (store.root / "originals").iterdir()} == prefix_folders

    async def test_a_prefix_folder_removed_by_hand_is_made_again(self, tmp_path: Path) -> None:
        store = LocalPhotoStore(tmp_path / "photos")
        data = os.urandom(10_000)
        target = store.original_path(hashlib.sha256(data).hexdigest())
        target.parent.rmdir()
        assert await store.commit(await store.receive(_body(data), max_bytes=1 << 20))
        assert target.read_bytes() == data
