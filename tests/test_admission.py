"""The in-flight bound: past MAX_REQUESTS_IN_FLIGHT a request waits up to ADMISSION_WAIT_S for a place
(at most ADMISSION_QUEUE waiting), else the worker answers 503 + Retry-After.

A request holds a place while it works (at once without a body, from its last body byte otherwise):
a body still arriving holds none, so clients trickling bodies cannot lock everyone else out."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from backend.admission import InFlight
from backend.app import create_app
from backend.installs import repository as repo
from backend.settings import Settings
from tests.factories import Factory
from tests.mobile_api.helpers import BASE, Draft, new_install, problem


@dataclass
class Bounded:
    """The app serving one request at a time, with one CPU thread and a queue of one."""

    client: httpx.AsyncClient
    app: Litestar

    @property
    def in_flight(self) -> InFlight:
        return self.app.state.in_flight

    async def until_in_flight(self, count: int) -> None:
        """Poll (with a deadline, not a fixed wait) until `count` requests hold a place."""
        async with asyncio.timeout(20):
            while self.in_flight.count != count:
                await asyncio.sleep(0.005)

    async def until_waiting(self, count: int) -> None:
        """Poll (with a deadline) until `count` requests wait for a place."""
        async with asyncio.timeout(20):
            while len(self.in_flight._waiting) != count:  # noqa: SLF001 - the queue is the behaviour under test
                await asyncio.sleep(0.005)


def _bounded_app(settings: Settings, wait_s: float, queue: int) -> Litestar:
    return create_app(
        replace(
            settings,
            max_requests_in_flight=1,
            busy_retry_after_s=2,
            cpu_threads=1,
            cpu_queue=1,
            admission_wait_s=wait_s,
            admission_queue=queue,
        )
    )


@pytest.fixture
async def bounded(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[Bounded]:
    """Refusing at once past the bound (ADMISSION_WAIT_S=0). `client` keeps the PostgreSQL pool open."""
    app = _bounded_app(settings, 0, 0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield Bounded(c, app)
    app.state.ctx.cpu.shutdown()


@pytest.fixture
async def queued(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[Bounded]:
    """One place and one request that may wait for it, as long as a test needs."""
    app = _bounded_app(settings, 60, 1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield Bounded(c, app)
    app.state.ctx.cpu.shutdown()


def _upload(c: httpx.AsyncClient, d: Draft, slot: str, content: object) -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(
        c.put(f"{d.url}/photos/{slot}", content=content, headers={**d.who.headers, "Content-Type": "image/jpeg"})
    )


class WorkingUpload:
    """A complete photo upload whose validation waits for the one CPU thread, held by the test:
    a request at work, holding its place until released."""

    def __init__(self, b: Bounded, d: Draft, data: bytes) -> None:
        self.release = threading.Event()
        self._core = b.app.state.ctx.cpu.run(self.release.wait, 30)
        self.task = _upload(b.client, d, "cabinet_overview", data)

    async def done(self) -> httpx.Response:
        self.release.set()
        await self._core
        return await self.task


class TricklingUpload:
    """A photo upload whose body stops halfway until released: a client on a bad line."""

    def __init__(self, c: httpx.AsyncClient, d: Draft, data: bytes, slot: str = "cabinet_overview") -> None:
        self.halfway, self.release = asyncio.Event(), asyncio.Event()
        self.task = _upload(c, d, slot, self._body(data))

    async def sending(self) -> None:
        """Wait until the handler is reading the body (failing if the request ended before)."""
        halfway = asyncio.ensure_future(self.halfway.wait())
        await asyncio.wait([halfway, self.task], return_when=asyncio.FIRST_COMPLETED)
        assert halfway.done(), (await self.task).text

    async def finish(self) -> httpx.Response:
        self.release.set()
        return await self.task

    async def _body(self, data: bytes) -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        self.halfway.set()
        await self.release.wait()
        yield data[len(data) // 2 :]


def _parts(settings: Settings) -> set[Path]:
    return set((settings.photo_dir / "incoming").glob("*.part"))


class TestInFlightBound:
    async def test_past_the_bound_a_request_is_refused_untouched_and_the_place_comes_back(
        self, bounded: Bounded, make: Factory
    ) -> None:
        c = bounded.client
        d = await new_install(c, make)
        working = WorkingUpload(bounded, d, make.photo("cabinet_overview"))
        await bounded.until_in_flight(1)
        install_id = str(uuid.uuid4())
        body = {"id": install_id, "connection_ean": d.ean, "asset_type": d.asset_type}
        r = await c.post(BASE, json=body, headers={**d.who.headers, "Accept-Language": "en"})
        problem(r, 503, "service/busy")
        assert r.headers["retry-after"] == "2"
        assert await repo.install_by_id(uuid.UUID(install_id)) is None  # refused before any work
        problem(await c.get(d.url, headers=d.who.headers), 503, "service/busy")  # no body: refused at once
        assert (await working.done()).status_code == 201
        assert bounded.in_flight.count == 0
        r = await c.post(BASE, json=body, headers=d.who.headers)  # the app's retry
        assert r.status_code == 201, r.text

    async def test_health_metrics_and_static_files_are_never_refused(self, bounded: Bounded, make: Factory) -> None:
        d = await new_install(bounded.client, make)
        working = WorkingUpload(bounded, d, make.photo("cabinet_overview"))
        try:
            await bounded.until_in_flight(1)
            statics = ("/portal/static/portal.css", "/console/static/console.css")
            for path in ("/health", "/health/live", "/health/ready", "/metrics", *statics):
                assert (await bounded.client.get(path)).status_code == 200, path
        finally:
            assert (await working.done()).status_code == 201

    async def test_bodies_still_arriving_hold_no_place(self, bounded: Bounded, make: Factory) -> None:
        """Two clients trickling bodies (the bound is one) do not lock anyone out."""
        c = bounded.client
        d = await new_install(c, make)
        trickling = [TricklingUpload(c, d, make.photo(slot), slot) for slot in ("cabinet_overview", "meter_display")]
        for t in trickling:
            await t.sending()
        assert bounded.in_flight.count == 0
        assert (await c.get(d.url, headers=d.who.headers)).status_code == 200
        other = {"id": str(uuid.uuid4()), "connection_ean": d.ean, "asset_type": d.asset_type}
        assert (await c.post(BASE, json=other, headers=d.who.headers)).status_code == 201
        for t in trickling:
            assert (await t.finish()).status_code == 201
        assert bounded.in_flight.count == 0

    async def test_a_body_completed_while_full_is_refused_and_nothing_is_kept(
        self, bounded: Bounded, make: Factory, settings: Settings
    ) -> None:
        c = bounded.client
        d = await new_install(c, make)
        before = _parts(settings)
        trickling = TricklingUpload(c, d, make.photo("meter_display"), "meter_display")
        await trickling.sending()
        working = WorkingUpload(bounded, d, make.photo("cabinet_overview"))
        await bounded.until_in_flight(1)
        problem(await trickling.finish(), 503, "service/busy")  # its last byte came while the worker was full
        assert (await working.done()).status_code == 201
        assert _parts(settings) == before  # the staged body is gone
        assert [p.slot for p in await repo.photos_of(uuid.UUID(d.id))] == ["cabinet_overview"]

    async def test_zero_means_no_bound(self, client: httpx.AsyncClient, make: Factory) -> None:
        """The suite's own app (MAX_REQUESTS_IN_FLIGHT=0): a request at work does not refuse others."""
        d = await new_install(client, make)
        trickling = TricklingUpload(client, d, make.photo("cabinet_overview"))
        await trickling.sending()
        try:
            assert (await client.get(d.url, headers=d.who.headers)).status_code == 200
        finally:
            assert (await trickling.finish()).status_code == 201


class TestWaitingForAPlace:
    async def test_past_the_bound_a_request_waits_and_is_served_when_a_place_frees(
        self, queued: Bounded, make: Factory
    ) -> None:
        """A phone sending its photos at once to a busy worker: the one past the bound is served, not refused."""
        c = queued.client
        d = await new_install(c, make)
        working = WorkingUpload(queued, d, make.photo("cabinet_overview"))
        await queued.until_in_flight(1)
        view = asyncio.create_task(c.get(d.url, headers=d.who.headers))
        await queued.until_waiting(1)
        assert not view.done()
        assert (await working.done()).status_code == 201
        assert (await view).status_code == 200  # the place passed on to it
        assert queued.in_flight.count == 0 and not queued.in_flight._waiting  # noqa: SLF001

    async def test_with_the_queue_full_the_next_is_refused_at_once(self, queued: Bounded, make: Factory) -> None:
        c = queued.client
        d = await new_install(c, make)
        working = WorkingUpload(queued, d, make.photo("cabinet_overview"))
        await queued.until_in_flight(1)
        waiting = asyncio.create_task(c.get(d.url, headers=d.who.headers))
        await queued.until_waiting(1)
        r = await c.get(d.url, headers={**d.who.headers, "Accept-Language": "en"})
        problem(r, 503, "service/busy")
        assert r.headers["retry-after"] == "2"
        assert (await working.done()).status_code == 201
        assert (await waiting).status_code == 200

    async def test_a_wait_that_runs_out_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, make: Factory
    ) -> None:
        app = _bounded_app(settings, 0.2, 1)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            b = Bounded(c, app)
            d = await new_install(c, make)
            working = WorkingUpload(b, d, make.photo("cabinet_overview"))
            await b.until_in_flight(1)
            problem(await c.get(d.url, headers=d.who.headers), 503, "service/busy")  # the upload still holds it
            assert not b.in_flight._waiting  # noqa: SLF001 - it left the queue
            assert (await working.done()).status_code == 201
            assert b.in_flight.count == 0
        app.state.ctx.cpu.shutdown()

    async def test_a_waiter_whose_client_goes_away_leaves_the_queue(self, queued: Bounded, make: Factory) -> None:
        c = queued.client
        d = await new_install(c, make)
        working = WorkingUpload(queued, d, make.photo("cabinet_overview"))
        await queued.until_in_flight(1)
        gone = asyncio.create_task(c.get(d.url, headers=d.who.headers))
        await queued.until_waiting(1)
        gone.cancel()
        await queued.until_waiting(0)
        assert (await working.done()).status_code == 201
        assert queued.in_flight.count == 0  # the freed place was not handed to the request that left
        assert (await c.get(d.url, headers=d.who.headers)).status_code == 200
