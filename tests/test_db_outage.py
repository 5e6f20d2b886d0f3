"""The database goes away or stalls under a real server process: every request that needs it is a
503 with Retry-After within a bound, /health/ready says so, /health stays up, and the service
recovers by itself once the database is back.

PostgreSQL is reached through a TCP proxy the test cuts (the machine's server is shared and never
stopped); SQLite loses its file's directory, or another process locks the file exclusively.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from backend.db import CLIENT_TIMEOUT_SLACK_S
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, new_ean
from tests.helpers.server import run_cli, serving
from tests.helpers.tcp_proxy import TcpProxy

# Short database timeouts for the server under test, so a stall is over quickly.
CONNECT_S, LOCK_S, STATEMENT_S = 1.0, 1.0, 2.0
SERVER_ENV = {
    "DB_CONNECT_TIMEOUT_S": str(CONNECT_S),
    "DB_LOCK_TIMEOUT_S": str(LOCK_S),
    "DB_STATEMENT_TIMEOUT_S": str(STATEMENT_S),
    "WORKERS": "1",
    "MAX_REQUESTS_IN_FLIGHT": "0",  # every request of a burst must reach the database here
}
# A database that is gone answers at once: refused, or the file cannot be opened.
GONE_BOUND_S = 3.0
# The slowest honest 503: a query on a stalled connection times out on the client (the statement
# timeout and its slack; the connection is then dropped, not given back); plus a loaded machine.
STALL_BOUND_S = STATEMENT_S + CLIENT_TIMEOUT_SLACK_S + 2.0
BURST = 15  # more requests at once than the pool has connections (10): a leaked slot would show


class BadDay(Protocol):
    """What can happen to the database of the server under test, per engine."""

    env: dict[str, str]  # what points the server at this database

    async def prepare(self) -> None: ...
    async def go_away(self) -> None: ...
    async def stall(self) -> None: ...
    async def come_back(self) -> None: ...
    async def finish(self) -> None: ...


class PostgresBadDay:
    """The server reaches PostgreSQL through a proxy: stopped = reset and refused, stall = partition."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        self._parts = parts

    async def prepare(self) -> None:
        await self.proxy.start()
        userinfo, at, _ = self._parts.netloc.rpartition("@")
        netloc = f"{userinfo}{at}127.0.0.1:{self.proxy.port}"
        self.env = {"DATABASE_URL": urlunsplit(self._parts._replace(netloc=netloc))}

    async def go_away(self) -> None:
        await self.proxy.stop()

    async def stall(self) -> None:
        self.proxy.partition()

    async def come_back(self) -> None:
        await self.proxy.restore()

    async def finish(self) -> None:
        await self.proxy.stop()


class SQLiteBadDay:
    """The server's own SQLite file: gone = its directory moved away, stall = an exclusive lock."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "db"
        self.away = root / "db-away"
        self.path = self.folder / "bad-day.sqlite3"
        self.env = {"DATABASE_URL": f"sqlite:///{self.path}"}
        self._holder: sqlite3.Connection | None = None

    async def prepare(self) -> None:
        await run_cli(self.env, "migrate")

    async def go_away(self) -> None:
        self.folder.rename(self.away)

    async def stall(self) -> None:
        # Another process (a backup, a VACUUM) holding the file exclusively: readers wait as well.
        holder = sqlite3.connect(self.path, isolation_level=None)
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM installs").fetchall()
        self._holder = holder

    async def come_back(self) -> None:
        if self.away.exists():
            self.away.rename(self.folder)
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    async def finish(self) -> None:
        await self.come_back()


@dataclass
class Server:
    url: str
    client: httpx.AsyncClient
    make: Factory

    async def claim(self) -> httpx.Response:
        """A write: a wrong address for a fresh EAN by a fresh customer is evaluated, recorded, 422."""
        who = self.make.party(Role.CUSTOMER)
        body = {"ean": new_ean(), "postcode": "6811AL", "house_number": 1}
        return await self.client.post("/mobile/v1/connections/claim", json=body, headers=who.headers)

    async def list_installs(self) -> httpx.Response:
        """A read."""
        return await self.client.get("/mobile/v1/installs", headers=self.make.party(Role.CUSTOMER).headers)

    async def ready(self) -> httpx.Response:
        return await self.client.get("/health/ready")


def _bad_day(settings: Settings, root: Path) -> BadDay:
    return SQLiteBadDay(root) if settings.is_sqlite else PostgresBadDay(settings.database_url)


@pytest.fixture
async def bad_day(settings: Settings, tmp_path: Path) -> AsyncIterator[BadDay]:
    day = _bad_day(settings, tmp_path)
    await day.prepare()
    yield day
    await day.finish()


@asynccontextmanager
async def _server(day: BadDay, make: Factory, log_path: Path) -> AsyncIterator[Server]:
    async with serving({**SERVER_ENV, **day.env}, log_path) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Server(url, client, make)


@pytest.fixture
async def server(bad_day: BadDay, make: Factory, tmp_path: Path) -> AsyncIterator[Server]:
    async with _server(bad_day, make, tmp_path / "server.log") as s:
        yield s


async def _timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def _assert_unavailable(response: httpx.Response, elapsed_s: float, bound_s: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "service/database-unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert elapsed_s < bound_s, f"answered after {elapsed_s:.1f} s"


async def _assert_all_unavailable(server: Server, bound_s: float) -> None:
    """A burst of writes, reads and readiness checks: every one a quick 503, liveness still 200."""
    probes: list[Callable[[], Awaitable[httpx.Response]]] = [server.claim, server.list_installs, server.ready]
    results = await asyncio.gather(*(_timed(probes[i % 3]()) for i in range(BURST)))
    for response, elapsed in results:
        _assert_unavailable(response, elapsed, bound_s)
    assert (await server.client.get("/health")).status_code == 200


async def _assert_all_served(server: Server) -> None:
    """The same burst works again, on the first try: nobody waits for a restart."""
    claims = await asyncio.gather(*(server.claim() for _ in range(BURST)))
    assert [r.status_code for r in claims] == [422] * BURST, [r.text for r in claims if r.status_code != 422]
    assert all(r.json()["code"] == "connection/claim-mismatch" for r in claims)
    listed = await asyncio.gather(*(server.list_installs() for _ in range(BURST)))
    assert [r.status_code for r in listed] == [200] * BURST
    ready = await server.ready()
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


class TestDatabaseGone:
    async def test_requests_are_quick_503s_and_the_service_recovers(self, server: Server, bad_day: BadDay) -> None:
        await _assert_all_served(server)
        await bad_day.go_away()
        await _assert_all_unavailable(server, GONE_BOUND_S)
        await bad_day.come_back()
        await _assert_all_served(server)

    async def test_a_server_started_during_the_outage_becomes_ready_by_itself(
        self, bad_day: BadDay, make: Factory, tmp_path: Path
    ) -> None:
        await bad_day.stall()  # gone from the start would not do on SQLite: it creates the file
        async with _server(bad_day, make, tmp_path / "server.log") as server:
            await _assert_all_unavailable(server, STALL_BOUND_S)
            await bad_day.come_back()
            await _assert_all_served(server)

    async def test_requests_in_flight_when_it_goes_are_answered_and_nothing_is_half_done(
        self, server: Server, bad_day: BadDay
    ) -> None:
        """The database goes away in the middle of a burst of writes: each one is either done (422, the
        guess recorded) or a well-formed 503, never a 500 or a hang, and the service comes back."""
        await _assert_all_served(server)
        burst = [asyncio.ensure_future(_timed(server.claim())) for _ in range(3 * BURST)]
        await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)  # the burst is under way
        await bad_day.go_away()
        results = await asyncio.gather(*burst)
        for response, elapsed in results:
            if response.status_code == 422:
                assert response.json()["code"] == "connection/claim-mismatch"
            else:
                _assert_unavailable(response, elapsed, STALL_BOUND_S)
        await bad_day.come_back()
        await _assert_all_served(server)


class TestDatabaseStalled:
    async def test_requests_are_503s_within_the_timeouts_and_the_service_recovers(
        self, server: Server, bad_day: BadDay
    ) -> None:
        await _assert_all_served(server)
        await bad_day.stall()
        await _assert_all_unavailable(server, STALL_BOUND_S)
        await bad_day.come_back()
        await _assert_all_served(server)
