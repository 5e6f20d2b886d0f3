"""The database is configured so that an acknowledged write survives a crash, and so that a bad day
(a lock held elsewhere, a slow statement) is a quick 503 while our own mistakes stay errors."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.db import (
    IDLE_IN_TRANSACTION_S,
    SQLITE_IDLE_CLOSE_S,
    BoundedSQLiteEngine,
    recorded_statements,
    unbounded_statements,
    write_transaction,
)
from backend.errors import Unavailable
from backend.installs import repository as repo
from backend.installs.tables import Install
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party, new_ean
from tests.helpers.apps import burst_client

CLAIM = "/mobile/v1/connections/claim"
NOW = datetime.now(UTC)


class TestDurability:
    async def test_acknowledged_writes_are_durable(self, settings: Settings) -> None:
        engine = Install._meta.db
        if isinstance(engine, SQLiteEngine):
            # WAL with synchronous=FULL (2): a commit is fsynced before it returns.
            assert (await engine.run_ddl("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
            assert (await engine.run_ddl("PRAGMA synchronous"))[0]["synchronous"] == 2
        else:
            rows = await engine.run_ddl("SHOW synchronous_commit")
            assert rows[0]["synchronous_commit"] == "on"
            assert (await engine.run_ddl("SHOW fsync"))[0]["fsync"] == "on"


class TestBounds:
    async def test_every_connection_waits_a_bounded_time(self, settings: Settings) -> None:
        engine = Install._meta.db
        if isinstance(engine, SQLiteEngine):
            # Every connection carries the lock timeout as its busy timeout (transactions restore it).
            rows = await engine.run_ddl("PRAGMA busy_timeout")
            assert rows[0]["timeout"] == int(settings.db_lock_timeout_s * 1000)
        else:
            assert (await engine.run_ddl("SHOW statement_timeout"))[0]["statement_timeout"] == "4s"
            assert (await engine.run_ddl("SHOW lock_timeout"))[0]["lock_timeout"] == "3s"
            assert (await engine.run_ddl("SHOW idle_in_transaction_session_timeout"))[0][
                "idle_in_transaction_session_timeout"
            ] == f"{IDLE_IN_TRANSACTION_S}s"

    async def test_migrations_run_without_the_statement_timeout(self) -> None:
        """An index on a big table may take minutes; the bound is lifted for migrations only."""
        engine = Install._meta.db
        with unbounded_statements(engine):
            if isinstance(engine, SQLiteEngine):  # SQLite has no statement timeout to lift
                assert (await engine.run_ddl("SELECT 1 AS one"))[0]["one"] == 1
            else:
                connection = await engine.get_new_connection()
                try:
                    assert await connection.fetchval("SHOW statement_timeout") == "0"
                    assert await connection.fetchval("SHOW lock_timeout") == "3s"  # lock waits stay bounded
                finally:
                    await connection.close()
        if not isinstance(engine, SQLiteEngine):
            connection = await engine.get_new_connection()
            try:
                assert await connection.fetchval("SHOW statement_timeout") == "4s"
            finally:
                await connection.close()


class TestBugsStayBugs:
    """Only the database's bad days become 503s; a mistake of ours stays an error (a logged 500)."""

    async def test_a_syntax_error_is_not_unavailable(self) -> None:
        with pytest.raises(Exception) as raised:
            await Install._meta.db.run_ddl("SELEC 1")
        assert not isinstance(raised.value, Unavailable)
        assert "syntax" in str(raised.value).lower()

    async def test_a_constraint_violation_is_not_unavailable(self, make: Factory) -> None:
        serial, _ = await make.asset()
        duplicate = {"serial": serial, "asset_type": "smart_meter_1p", "status": "in_stock", "created_at": NOW}
        with pytest.raises(Exception) as raised:
            async with write_transaction(Install._meta.db):
                await repo.insert_assets([duplicate])
        assert not isinstance(raised.value, Unavailable)
        assert "unique" in str(raised.value).lower()


EndTheWait = Callable[[], Awaitable[float]]


@asynccontextmanager
async def _write_lock_held_elsewhere(settings: Settings) -> AsyncIterator[EndTheWait]:
    """Another connection holds what a claim needs: the SQLite write lock (an open IMMEDIATE
    transaction), or on PostgreSQL an ACCESS EXCLUSIVE lock on claim_attempts. Yields a function
    that waits until a writer waits on it, then ends that wait and says when (monotonic)."""
    if settings.is_sqlite:
        holder = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        async def release() -> float:
            engine = Install._meta.db
            assert isinstance(engine, BoundedSQLiteEngine)
            async with asyncio.timeout(30):  # fails the test if no writer ever comes (not a timing assertion)
                while not engine.write_lock().locked():  # past this process's queue: waiting on SQLite
                    await asyncio.sleep(0.005)
            holder.execute("ROLLBACK")
            return time.monotonic()

        try:
            yield release
        finally:
            holder.close()
        return
    connection = await asyncpg.connect(settings.database_url)

    async def terminate_waiter() -> float:
        async with asyncio.timeout(30):  # fails the test if no writer ever waits (not a timing assertion)
            while not (pid := await connection.fetchval(_WAITING_ON_CLAIM_ATTEMPTS)):
                await connection.execute("SELECT pg_stat_clear_snapshot()")  # a transaction keeps its snapshot
                await asyncio.sleep(0.01)
        await connection.execute("SELECT pg_terminate_backend($1)", pid)
        return time.monotonic()

    try:
        async with connection.transaction():
            await connection.execute("LOCK TABLE claim_attempts IN ACCESS EXCLUSIVE MODE")
            yield terminate_waiter
    finally:
        await connection.close()


_WAITING_ON_CLAIM_ATTEMPTS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND wait_event_type = 'Lock' AND query LIKE '%claim_attempts%'
    LIMIT 1"""


class TestLocked:
    async def test_writers_waiting_on_a_lock_get_503_within_the_lock_timeout(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings
    ) -> None:
        """Ten writers at once, not ten lock timeouts in a row; readers of other data carry on."""
        ean = await make.connection(house_number=14)
        customers = [make.party(Role.CUSTOMER) for _ in range(10)]
        bound_s = settings.db_lock_timeout_s + settings.db_connect_timeout_s + 2.0  # slack: a loaded machine
        async with burst_client(settings) as burst, _write_lock_held_elsewhere(settings):

            async def timed_claim(who: Party) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                body = {"ean": ean, "postcode": "6811AL", "house_number": 14}
                response = await burst.post(CLAIM, json=body, headers=who.headers)
                return response, time.monotonic() - started

            results = await asyncio.gather(*(timed_claim(who) for who in customers))
            for response, elapsed in results:
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "service/database-unavailable"
                assert int(response.headers["Retry-After"]) > 0
                assert elapsed < bound_s, f"answered after {elapsed:.1f} s"
            listed = await burst.get("/mobile/v1/installs", headers=customers[0].headers)
            assert listed.status_code == 200, listed.text
        body = {"ean": ean, "postcode": "6811AL", "house_number": 14}
        claimed = await client.post(CLAIM, json=body, headers=customers[0].headers)
        assert claimed.status_code == 201, claimed.text  # nothing of the refused attempts stayed behind
        assert await repo.claim_failures_on(ean, NOW - timedelta(days=1)) == []

    async def test_a_writer_whose_wait_is_ended_gets_a_clear_answer_at_once(
        self, client: httpx.AsyncClient, make: Factory, settings: Settings
    ) -> None:
        """PostgreSQL ends the waiting session (an administrator, a failover): a 503 at once, and the
        pool serves the next requests on fresh connections. SQLite: the process holding the write
        lock ends: the waiting writer goes ahead and succeeds."""
        ean = await make.connection(house_number=14)
        who = make.party(Role.CUSTOMER)
        body = {"ean": ean, "postcode": "6811AL", "house_number": 14}
        async with _write_lock_held_elsewhere(settings) as end_the_wait:
            claim = asyncio.create_task(client.post(CLAIM, json=body, headers=who.headers))
            ended = await end_the_wait()
            response = await claim
            waited_after_s = time.monotonic() - ended
        assert waited_after_s < settings.db_lock_timeout_s  # answered because the wait ended, not timed out
        if settings.is_sqlite:
            assert response.status_code == 201, response.text
            return
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "service/database-unavailable"
        others = [make.party(Role.CUSTOMER) for _ in range(12)]  # more than the pool's 10 connections
        for other in others:
            r = await client.post(CLAIM, json={**body, "ean": new_ean()}, headers=other.headers)
            assert r.status_code == 422, r.text
        assert (await client.post(CLAIM, json=body, headers=who.headers)).status_code == 201


class TestReusedConnections:
    """Connections are opened once and lent out again (Piccolo's SQLite engine opened one per query)."""

    async def test_queries_and_transactions_open_no_new_connection(self, client: httpx.AsyncClient) -> None:
        await Install.select(Install.id).limit(1)  # one connection open (the pool starts empty)
        with recorded_statements() as sent:
            for _ in range(5):
                await Install.select(Install.id).limit(1)
            async with write_transaction(Install._meta.db):
                await Install.select(Install.id).limit(1)
        assert [s.kind for s in sent] == ["query"] * 5 + ["begin", "query", "commit"]

    async def test_a_transaction_gives_its_connection_back_with_the_full_busy_timeout(self, tmp_path: Path) -> None:
        engine = BoundedSQLiteEngine(str(tmp_path / "reuse.sqlite3"), lock_timeout_s=2.0)
        await engine.run_ddl("CREATE TABLE t (x INTEGER)")
        with recorded_statements() as sent:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                # Inside: what is left of the lock timeout after queueing for the write lock.
                inside = (await engine.run_ddl("PRAGMA busy_timeout"))[0]["timeout"]
                await engine.run_ddl("INSERT INTO t VALUES (1)")
            after = (await engine.run_ddl("PRAGMA busy_timeout"))[0]["timeout"]
        assert 0 < inside <= 2000
        assert after == 2000  # the same connection, its single statements wait the whole lock timeout again
        assert "connect" not in [s.kind for s in sent]
        assert (await engine.run_ddl("SELECT count(*) AS n FROM t"))[0]["n"] == 1
        await engine.close_connections()

    async def test_a_failed_transaction_is_rolled_back_and_its_connection_still_serves(self, tmp_path: Path) -> None:
        engine = BoundedSQLiteEngine(str(tmp_path / "rollback.sqlite3"), lock_timeout_s=2.0)
        await engine.run_ddl("CREATE TABLE t (x INTEGER UNIQUE)")
        with pytest.raises(sqlite3.IntegrityError):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_ddl("INSERT INTO t VALUES (1)")
                await engine.run_ddl("INSERT INTO t VALUES (1)")
        assert not engine.write_lock().locked()
        assert (await engine.run_ddl("SELECT count(*) AS n FROM t"))[0]["n"] == 0  # nothing of it stayed
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await engine.run_ddl("INSERT INTO t VALUES (1)")
        assert (await engine.run_ddl("SELECT count(*) AS n FROM t"))[0]["n"] == 1
        await engine.close_connections()

    async def test_a_replaced_database_file_is_never_read_through_an_old_connection(self, tmp_path: Path) -> None:
        """An operator restores a copy at the path: the next query reads the copy, not the old file."""
        path = tmp_path / "db.sqlite3"
        engine = BoundedSQLiteEngine(str(path), lock_timeout_s=1.0)
        await engine.run_ddl("CREATE TABLE t (x INTEGER)")
        await engine.run_ddl("INSERT INTO t VALUES (1)")
        restored = sqlite3.connect(tmp_path / "restored.sqlite3")
        restored.execute("CREATE TABLE t (x INTEGER)")
        restored.execute("INSERT INTO t VALUES (2)")
        restored.commit()
        restored.close()
        path.rename(tmp_path / "old.sqlite3")
        (tmp_path / "restored.sqlite3").rename(path)
        assert (await engine.run_ddl("SELECT x FROM t"))[0]["x"] == 2
        await engine.close_connections()

    async def test_a_database_moved_away_is_unavailable_not_served_from_an_open_handle(self, tmp_path: Path) -> None:
        folder = tmp_path / "db"
        folder.mkdir()
        engine = BoundedSQLiteEngine(str(folder / "db.sqlite3"), lock_timeout_s=1.0)
        await engine.run_ddl("CREATE TABLE t (x INTEGER)")
        folder.rename(tmp_path / "away")
        with pytest.raises(Unavailable):
            await engine.run_ddl("SELECT x FROM t")
        (tmp_path / "away").rename(folder)
        assert await engine.run_ddl("SELECT x FROM t") == []
        await engine.close_connections()

    async def test_idle_connections_are_closed_so_another_process_can_lock_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "idle.sqlite3"
        engine = BoundedSQLiteEngine(str(path), lock_timeout_s=1.0)
        await engine.run_ddl("PRAGMA journal_mode=WAL")
        await engine.run_ddl("CREATE TABLE t (x INTEGER)")
        await asyncio.sleep(SQLITE_IDLE_CLOSE_S + 0.5)
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("PRAGMA locking_mode=EXCLUSIVE")
            other.execute("BEGIN EXCLUSIVE")  # "database is locked" while any connection of ours is open
            other.execute("SELECT count(*) FROM t").fetchall()
            other.execute("ROLLBACK")
        finally:
            other.close()
