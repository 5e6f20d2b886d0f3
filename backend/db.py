"""The database engine chosen from settings: a SQLite file by default, PostgreSQL via DATABASE_URL.

Both engines are bounded, so a bad day is a 503 within seconds, never a hang or a 500: PostgreSQL
connections carry a statement and a lock timeout and wait a bounded time to connect or for a pooled
connection; SQLite writers wait a bounded time for the one write lock. Every query and transaction
of the project runs through these two engine classes, so this is the one place where the
database's "unavailable" errors (unreachable, locked, too slow) become
`Unavailable("service/database-unavailable")`; every other database error is a bug and propagates
unchanged (a logged 500).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from backend.errors import Unavailable
from backend.settings import Settings

log = logging.getLogger("selfinstall")

RETRY_AFTER_S = 5  # a restart or a failover takes seconds; the mobile app retries after this
# A transaction left idle by a stuck client gives its locks back after this (PostgreSQL).
IDLE_IN_TRANSACTION_S = 15
CLIENT_TIMEOUT_SLACK_S = 1.0  # the server's own statement timeout arrives well within this

_PG_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, DNS; TimeoutError (connect, pool, command) is one too
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: the connection failed or was lost
    asyncpg.exceptions.OperatorInterventionError,  # class 57: statement timeout, shutdown, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.exceptions.LockNotAvailableError,  # 55P03: lock_timeout
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
)
# A closed connection, or a pooled one asyncpg already gave back because it was lost mid-transaction.
_PG_LOST_CONNECTION = ("connection is closed", "connection has been released back to the pool")
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file")


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error raised by the database says it cannot serve right now (not that we erred)."""
    if isinstance(exc, _PG_UNAVAILABLE):
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError):  # also raised for misuse: only a lost connection
        return any(message in str(exc) for message in _PG_LOST_CONNECTION)
    if isinstance(exc, sqlite3.OperationalError):
        return any(message in str(exc) for message in _SQLITE_UNAVAILABLE)
    return False


@contextmanager
def _unavailable_on_bad_days() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        raise Unavailable("service/database-unavailable", retry_after_s=RETRY_AFTER_S) from exc


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a request may wait on the database, in seconds (see Settings)."""

    connect_s: float
    lock_s: float
    statement_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.db_connect_timeout_s, settings.db_lock_timeout_s, settings.db_statement_timeout_s)


def _ms(seconds: float) -> str:
    return str(int(seconds * 1000))


class BoundedPostgresEngine(PostgresEngine):
    """PostgreSQL with server-side timeouts, bounded waits for connections, bad days as 503."""

    def __init__(self, dsn: str, limits: Limits) -> None:
        self.limits = limits
        super().__init__(
            config={
                "dsn": dsn,
                "timeout": limits.connect_s,
                # The server's statement timeout fires first; this client-side one covers a server
                # that cannot even answer (a network partition).
                "command_timeout": limits.statement_s + CLIENT_TIMEOUT_SLACK_S,
                "server_settings": {
                    "statement_timeout": _ms(limits.statement_s),
                    "lock_timeout": _ms(limits.lock_s),
                    "idle_in_transaction_session_timeout": _ms(IDLE_IN_TRANSACTION_S),
                },
            }
        )

    async def start_connection_pool(self, **kwargs: Any) -> None:
        # No connection up front: a worker started while the database is down still starts, says so
        # on /health/ready and connects once the database is back.
        await super().start_connection_pool(**{"min_size": 0, **kwargs})

    async def _run_in_pool(self, query: str, args: Any = None) -> Any:
        # Piccolo waits for a pooled connection without a timeout: under a lock every one is taken.
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire(timeout=self.limits.connect_s) as connection:
            try:
                return await connection.fetch(query, *(args or []))
            except TimeoutError:
                connection.terminate()  # giving it back would first wait for the query's cancellation
                raise

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        with _unavailable_on_bad_days():
            return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        with _unavailable_on_bad_days():
            return await super().run_ddl(ddl, in_pool)

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)

    @contextmanager
    def unbounded_statements(self) -> Iterator[None]:
        """For migrations: an index on a big table may rightly take minutes (lock waits stay bounded)."""
        bounded = self.config
        self.config = {
            **bounded,
            "command_timeout": None,
            "server_settings": {**bounded["server_settings"], "statement_timeout": "0"},
        }
        try:
            yield
        finally:
            self.config = bounded


class _PostgresTransaction(PostgresTransaction):
    engine: BoundedPostgresEngine

    async def get_connection(self) -> Any:
        if self.engine.pool:
            return await self.engine.pool.acquire(timeout=self.engine.limits.connect_s)
        return await self.engine.get_new_connection()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        try:
            with _unavailable_on_bad_days():
                return await super().__aenter__()
        except BaseException:
            self._drop_connection()
            raise

    async def rollback(self) -> None:
        if _is_lost(self.connection):  # the server rolled back what the lost connection began
            self._rolled_back = True
            return
        await super().rollback()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        if isinstance(exception, Unavailable) and isinstance(exception.__cause__, TimeoutError):
            self._drop_connection()  # a rollback would first wait for the timed-out query's cancellation
        try:
            with _unavailable_on_bad_days():
                return await super().__aexit__(exception_type, exception, traceback)
        except BaseException:
            # Piccolo gives the connection back and resets the context only after a clean commit or
            # rollback; after a failed one it would keep a pool slot and the stale transaction.
            self._drop_connection()
            self.engine.current_transaction.reset(self.context)
            raise

    def _drop_connection(self) -> None:
        """Its state is unknown: close it hard. asyncpg gives its pool slot back, and the server rolls
        back whatever it began."""
        connection = getattr(self, "connection", None)
        if connection is not None and not _is_lost(connection):
            connection.terminate()


def _is_lost(connection: Any) -> bool:
    try:
        return bool(connection.is_closed())
    except asyncpg.exceptions.InterfaceError:  # a pool proxy asyncpg detached when the connection went
        return True


class BoundedSQLiteEngine(SQLiteEngine):
    """SQLite where a writer waits a bounded time for the write lock, and bad days are 503s.

    Write transactions of one process take an asyncio lock first, so they queue here in order
    instead of polling SQLite's busy handler against each other: only another process holding the
    write lock makes a writer wait on SQLite itself. The wait for both together is bounded.
    """

    def __init__(self, path: str, lock_timeout_s: float) -> None:
        super().__init__(path=path, timeout=lock_timeout_s)  # the busy timeout of single statements
        self.lock_timeout_s = lock_timeout_s
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def write_lock(self) -> asyncio.Lock:
        """The write lock of the running event loop (asyncio locks belong to one loop)."""
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        with _unavailable_on_bad_days():
            return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        with _unavailable_on_bad_days():
            return await super().run_ddl(ddl, in_pool)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _SQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class _SQLiteTransaction(SQLiteTransaction):
    engine: BoundedSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._locked: asyncio.Lock | None = None
        self._deadline = asyncio.get_running_loop().time() + self.engine.lock_timeout_s
        try:
            with _unavailable_on_bad_days():
                if self.transaction_type is TransactionType.immediate:
                    lock = self.engine.write_lock()
                    async with asyncio.timeout(self.engine.lock_timeout_s):  # TimeoutError: unavailable
                        await lock.acquire()
                    self._locked = lock
                return await super().__aenter__()
        except BaseException:
            await self._close_and_unlock()
            raise

    async def get_connection(self) -> Any:
        connection = await super().get_connection()
        # What is left of the wait after queueing in this process goes to waiting on other processes.
        remaining_ms = max(1, int((self._deadline - asyncio.get_running_loop().time()) * 1000))
        await connection.execute(f"PRAGMA busy_timeout = {remaining_ms}")
        return connection

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            with _unavailable_on_bad_days():
                return await super().__aexit__(exception_type, exception, traceback)
        except BaseException:
            await self._close_and_unlock()  # piccolo closes the connection only after a clean end
            self.engine.current_transaction.reset(self.context)
            raise
        finally:
            if self._locked is not None:
                self._locked.release()
                self._locked = None

    async def _close_and_unlock(self) -> None:
        connection = getattr(self, "connection", None)
        if connection is not None:
            with suppress(Exception):  # an aiosqlite connection left open keeps its thread forever
                await connection.close()
        if self._locked is not None:
            self._locked.release()
            self._locked = None


def engine_for(settings: Settings) -> Engine:
    """Build the engine from settings."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return BoundedSQLiteEngine(str(settings.sqlite_path), settings.db_lock_timeout_s)
    if not settings.database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return BoundedPostgresEngine(settings.database_url, Limits.from_settings(settings))


def write_transaction(engine: Engine):  # noqa: ANN201 - each engine returns its own transaction type
    """A transaction that reads then writes; on SQLite it takes the write lock up front (IMMEDIATE)."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def ping(table: type[Table], timeout_s: float) -> None:
    """Raise `Unavailable` unless one row of `table` can be read within `timeout_s` (a trivial query
    that touches the schema: `SELECT 1` alone answers even while SQLite is locked exclusively)."""
    try:
        with _unavailable_on_bad_days():
            async with asyncio.timeout(timeout_s):
                await table.select(table._meta.primary_key).limit(1)
    except Unavailable:
        raise
    except Exception as exc:  # a missing schema, say: not serving either, but worth a traceback
        log.exception("readiness query failed")
        raise Unavailable("service/database-unavailable", retry_after_s=RETRY_AFTER_S) from exc


@contextmanager
def unbounded_statements(engine: Engine) -> Iterator[None]:
    """Lift the statement timeout while migrating (a no-op on SQLite, which has none)."""
    if isinstance(engine, BoundedPostgresEngine):
        with engine.unbounded_statements():
            yield
    else:
        yield
