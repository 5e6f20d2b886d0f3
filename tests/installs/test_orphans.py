"""The orphan sweep of the local store against the real database, and its races with uploads and
with other sweepers (every worker sweeps, and so may `selfinstall sweep-files`)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from backend.installs import repository as repo
from backend.installs.context import InstallContext, build_context
from backend.installs.orphans import sweep_files
from backend.settings import Settings
from backend.storage import LocalPhotoStore, StagedUpload
from tests.factories import Factory
from tests.helpers.server import serving
from tests.mobile_api.helpers import new_install, upload

HOUR = 3600.0


async def _stream(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def staged(store: LocalPhotoStore, data: bytes) -> StagedUpload:
    return await store.receive(_stream(data), max_bytes=len(data) + 1)


async def committed(store: LocalPhotoStore, data: bytes, age_s: float = 2 * HOUR) -> str:
    """Bytes made durable as an upload would, last modified `age_s` ago."""
    s = await staged(store, data)
    await store.commit(s)
    when = time.time() - age_s
    os.utime(store.original_path(s.sha256), (when, when))
    return s.sha256


def held_files(store: LocalPhotoStore) -> list[Path]:
    return sorted((store.root / "incoming").glob("*.orphan"))


@pytest.fixture
def store(tmp_path: Path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "photos")


@pytest.fixture
def ctx(settings: Settings, store: LocalPhotoStore) -> Iterator[InstallContext]:
    context = replace(build_context(settings), store=store)
    yield context
    context.cpu.shutdown()


class TestSweepFiles:
    async def test_a_file_a_row_refers_to_stays_and_one_without_goes(
        self, client: httpx.AsyncClient, make: Factory, store: LocalPhotoStore, ctx: InstallContext
    ) -> None:
        d = await new_install(client, make)
        photo = make.photo("cabinet_overview", size=(400, 300))
        r = await upload(client, d, "cabinet_overview", photo)
        assert r.status_code == 201, r.text
        with_row = await committed(store, photo)  # the same bytes: a row refers to them
        assert with_row == r.json()["photo"]["sha256"]
        orphan = await committed(store, make.photo("cabinet_overview", size=(400, 300)))
        report = await sweep_files(ctx, grace_s=HOUR)
        assert (report.partials, report.orphans) == (0, 1)
        assert store.original_path(with_row).exists()
        assert not store.original_path(orphan).exists()

    async def test_the_grace_keeps_an_upload_between_its_file_and_its_row(
        self, store: LocalPhotoStore, ctx: InstallContext
    ) -> None:
        fresh = await committed(store, b"committed, row not written yet", age_s=0)
        partial = await staged(store, b"still arriving")
        report = await sweep_files(ctx, grace_s=HOUR)
        assert (report.partials, report.orphans) == (0, 0)
        assert store.original_path(fresh).exists() and partial.path.exists()
        later = replace(ctx, clock=lambda: datetime.now(UTC) + timedelta(hours=2))  # the upload died
        report = await sweep_files(later, grace_s=HOUR)
        assert (report.partials, report.orphans) == (1, 1)
        assert not store.original_path(fresh).exists() and not partial.path.exists()


class TestSweepRaces:
    async def test_an_upload_renewing_the_file_while_it_is_judged_keeps_it(self, store: LocalPhotoStore) -> None:
        data = b"the same bytes uploaded again"
        sha = await committed(store, data)

        async def in_use(sha256s: list[str]) -> set[str]:
            # Between the sweep's look at the file and its rename, the same bytes are committed
            # again (their row is written after this): commit renews the file's time.
            assert await store.commit(await staged(store, data)) is False
            return await repo.sha256s_stored(sha256s)

        report = await store.sweep(in_use, cutoff=time.time() - HOUR)
        assert report.orphans == 0
        assert store.original_path(sha).read_bytes() == data
        assert held_files(store) == []

    async def test_an_upload_landing_after_the_file_was_taken_writes_it_anew(self, store: LocalPhotoStore) -> None:
        data = b"bytes committed while the sweep holds the old copy"
        sha = await committed(store, data)
        asked: list[list[str]] = []

        async def in_use(sha256s: list[str]) -> set[str]:
            asked.append(sha256s)
            if len(asked) == 2:  # the second look, with the file renamed away: it is not there to renew
                assert not store.original_path(sha).exists()
                assert await store.commit(await staged(store, data)) is True
            return await repo.sha256s_stored(sha256s)

        report = await store.sweep(in_use, cutoff=time.time() - HOUR)
        assert report.orphans == 1  # the old copy went; the upload's own stays
        assert store.original_path(sha).read_bytes() == data
        assert held_files(store) == []

    async def test_two_sweepers_at_once_take_each_orphan_once(self, store: LocalPhotoStore) -> None:
        shas = [await committed(store, f"orphan {n}".encode()) for n in range(20)]
        first, second = await asyncio.gather(
            store.sweep(repo.sha256s_stored, time.time() - HOUR), store.sweep(repo.sha256s_stored, time.time() - HOUR)
        )
        assert first.orphans + second.orphans == 20
        assert not any(store.original_path(s).exists() for s in shas)
        assert held_files(store) == []

    async def test_a_file_that_vanishes_under_the_sweep_is_skipped(self, store: LocalPhotoStore) -> None:
        taken = await committed(store, b"another sweeper takes this one")
        left = await committed(store, b"this one is ours")

        async def in_use(sha256s: list[str]) -> set[str]:
            store.original_path(taken).unlink(missing_ok=True)
            return await repo.sha256s_stored(sha256s)

        report = await store.sweep(in_use, cutoff=time.time() - HOUR)
        assert report.orphans == 1
        assert not store.original_path(left).exists()

    async def test_what_a_stopped_sweeper_held_is_judged_on_the_next_round(
        self, client: httpx.AsyncClient, make: Factory, store: LocalPhotoStore
    ) -> None:
        d = await new_install(client, make)
        photo = make.photo("cabinet_overview", size=(400, 300))
        assert (await upload(client, d, "cabinet_overview", photo)).status_code == 201
        used, unused = await committed(store, photo), await committed(store, b"nobody's")
        incoming = store.root / "incoming"
        for sha in (used, unused):  # renamed away by a sweeper that was killed before judging
            os.rename(store.original_path(sha), incoming / f"{sha}.dead0001.orphan")
        report = await store.sweep(repo.sha256s_stored, cutoff=time.time() + 60)  # held files look old
        assert report.orphans == 1
        assert store.original_path(used).read_bytes() == photo  # a row refers to it: put back
        assert not store.original_path(unused).exists()
        assert held_files(store) == []


class TestEveryWorkerSweeps:
    async def test_a_served_app_sweeps_on_its_own_round_after_round(self, tmp_path: Path) -> None:
        """The lifespan's loop (backend/periodic.every with orphans.file_round) in a real server process: what
        is planted in its folder is swept without anyone asking, and again on a later round."""
        store = LocalPhotoStore(tmp_path / "photos")
        env = {"PHOTO_STORE": f"file://{store.root}", "FILE_SWEEP_INTERVAL_S": "0.1", "ORPHAN_GRACE_S": "1"}

        async def planted(label: bytes) -> tuple[Path, Path]:
            orphan = await committed(store, b"no row refers to " + label)
            partial = (await staged(store, b"left by a crash " + label)).path
            old = time.time() - 60
            os.utime(partial, (old, old))
            return store.original_path(orphan), partial

        async def swept(paths: tuple[Path, Path]) -> None:
            async with asyncio.timeout(30):  # a deadline for a server that never sweeps, not a measure
                while any(p.exists() for p in paths):
                    await asyncio.sleep(0.05)

        async with serving(env, tmp_path / "server.log"):
            await swept(await planted(b"first"))
            await swept(await planted(b"second"))
