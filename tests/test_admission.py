"""The in-flight bound: past MAX_REQUESTS_IN_FLIGHT a worker answers 503 + Retry-After at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from backend.app import create_app
from backend.installs import repository as repo
from backend.settings import Settings
from tests.factories import Factory
from tests.mobile_api.helpers import BASE, Draft, new_install, problem


@pytest.fixture
async def bounded(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app serving one request at a time (`client` keeps the PostgreSQL pool open)."""
    app = create_app(replace(settings, max_requests_in_flight=1, busy_retry_after_s=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
    app.state.ctx.cpu.shutdown()


class HeldUpload:
    """A photo upload whose body stops halfway until released: a request in flight for the test."""

    def __init__(self, c: httpx.AsyncClient, d: Draft, data: bytes) -> None:
        self.halfway, self.release = asyncio.Event(), asyncio.Event()
        self.task = asyncio.create_task(
            c.put(
                f"{d.url}/photos/cabinet_overview",
                content=self._body(data),
                headers={**d.who.headers, "Content-Type": "image/jpeg"},
            )
        )

    async def in_flight(self) -> None:
        """Wait until the handler is reading the body (failing if the request ended before)."""
        halfway = asyncio.ensure_future(self.halfway.wait())
        await asyncio.wait([halfway, self.task], return_when=asyncio.FIRST_COMPLETED)
        assert halfway.done(), (await self.task).text

    async def _body(self, data: bytes) -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        self.halfway.set()  # the handler is reading the body: the request holds its place
        await self.release.wait()
        yield data[len(data) // 2 :]


class TestInFlightBound:
    async def test_past_the_bound_a_request_is_refused_untouched_and_the_place_comes_back(
        self, bounded: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(bounded, make)
        held = HeldUpload(bounded, d, make.photo("cabinet_overview"))
        await held.in_flight()
        install_id = str(uuid.uuid4())
        body = {"id": install_id, "connection_ean": d.ean, "asset_type": d.asset_type}
        r = await bounded.post(BASE, json=body, headers={**d.who.headers, "Accept-Language": "en"})
        problem(r, 503, "service/busy")
        assert r.headers["retry-after"] == "2"
        assert await repo.install_by_id(uuid.UUID(install_id)) is None  # refused before any work
        held.release.set()
        assert (await held.task).status_code == 201
        r = await bounded.post(BASE, json=body, headers=d.who.headers)  # the app's retry
        assert r.status_code == 201, r.text

    async def test_health_and_metrics_are_never_refused(self, bounded: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(bounded, make)
        held = HeldUpload(bounded, d, make.photo("cabinet_overview"))
        await held.in_flight()
        try:
            problem(await bounded.get(d.url, headers=d.who.headers), 503, "service/busy")
            for path in ("/health", "/health/live", "/health/ready", "/metrics"):
                assert (await bounded.get(path)).status_code == 200, path
        finally:
            held.release.set()
        assert (await held.task).status_code == 201

    async def test_zero_means_no_bound(self, client: httpx.AsyncClient, make: Factory) -> None:
        """The suite's own app (MAX_REQUESTS_IN_FLIGHT=0): a held request does not refuse others."""
        d = await new_install(client, make)
        held = HeldUpload(client, d, make.photo("cabinet_overview"))
        await held.in_flight()
        try:
            assert (await client.get(d.url, headers=d.who.headers)).status_code == 200
        finally:
            held.release.set()
        assert (await held.task).status_code == 201
