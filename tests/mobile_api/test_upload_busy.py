"""A photo upload while the CPU pool is full: 503 + Retry-After at once, nothing kept; the retry works."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.settings import Settings
from tests.factories import Factory
from tests.helpers.photo_store import stored_originals
from tests.mobile_api.helpers import new_install, problem, scan, upload


@pytest.fixture
async def one_core(
    client: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, InstallContext]]:
    """The app with a pool of one thread and no queue (`client` keeps the PostgreSQL pool open)."""
    app = create_app(replace(settings, cpu_threads=1, cpu_queue=0, busy_retry_after_s=3))
    ctx: InstallContext = app.state.ctx
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c, ctx
    ctx.cpu.shutdown()
    await ctx.store.aclose()


def parts(settings: Settings) -> set[Path]:
    return set((settings.photo_dir / "incoming").glob("*.part"))


class TestUploadWhileBusy:
    async def test_refused_at_once_with_retry_after_then_the_same_upload_succeeds(
        self, one_core: tuple[httpx.AsyncClient, InstallContext], make: Factory, settings: Settings
    ) -> None:
        c, ctx = one_core
        d = await new_install(c, make)
        d.serial, d.payload = await make.asset()
        assert (await scan(c, d, d.payload)).status_code == 200
        data = make.photo("meter_label", payload=d.payload, serial=d.serial)
        sha256 = hashlib.sha256(data).hexdigest()
        before = parts(settings)
        started, release = threading.Event(), threading.Event()

        def hold_the_core() -> None:  # another upload's decode, as long as the test wants
            started.set()
            release.wait(timeout=30)

        held = ctx.cpu.run(hold_the_core)
        try:
            assert await asyncio.to_thread(started.wait, 30)
            r = await upload(c, d, "meter_label", data, **{"Accept-Language": "en"})
            body = problem(r, 503, "service/busy")
            assert r.headers["retry-after"] == "3"
            assert "Try again in 3 seconds; nothing was lost" in body["detail"]
            assert parts(settings) == before  # the staged body is gone
            assert sha256 not in await stored_originals()  # nothing made durable
            assert await repo.photos_of(uuid.UUID(d.id)) == []  # and no row
        finally:
            release.set()
        await held
        r = await upload(c, d, "meter_label", data)  # the app's retry: the same bytes, the same slot
        assert r.status_code == 201, r.text
        assert r.json()["photo"]["sha256"] == sha256
        assert sha256 in await stored_originals()
        assert [p.sha256 for p in await repo.photos_of(uuid.UUID(d.id))] == [sha256]
        again = await upload(c, d, "meter_label", data)  # and a lost answer's retry is a 200
        assert again.status_code == 200, again.text
        assert again.json()["photo"]["id"] == r.json()["photo"]["id"]
        assert parts(settings) == before
