"""The database engine chosen from settings: a SQLite file by default, PostgreSQL via DATABASE_URL.

Both engines are bounded, so a bad day is a 503 within seconds, never a hang or a 500: PostgreSQL
connections carry a statement and a lock timeout and wait a bounded time to connect or for a pooled
connection; SQLite writers wait a bounded time for the one write lock. Every query and transaction
of the project runs through these two engine classes, so this is the one place where the
database's "unavailable" errors (unreachable, locked, too slow) become
`Unavailable("service/database-unavailable")`; every other database error is a bug and propagates
unchanged (a logged 500).

SQLite connections are kept and reused (a small pool per event loop), as PostgreSQL's are: Piccolo's
own SQLite engine opens a connection, and a thread, for every query outside a transaction (4.8x the
cost of a reused one). `recorded_statements()` lets tests count what a request really sends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
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


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing sent to the database: `connect`, `begin`, `commit`, `rollback` or `query`."""

    kind: str
    sql: str = ""
    in_transaction: bool = False


_recorded: ContextVar[list[Statement] | None] = ContextVar("selfinstall_db_statements", default=None)


@contextmanager
def recorded_statements() -> Iterator[list[Statement]]:
    """Collect every statement the code run inside sends (and every connection it opens), in order."""
    statements: list[Statement] = []
    token = _recorded.set(statements)
    try:
        yield statements
    finally:
        _recorded.reset(token)


def _record(kind: str, sql: str = "", in_transaction: bool = False) -> None:
    statements = _recorded.get()
    if statements is not None:
        statements.append(Statement(kind, sql, in_transaction))


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
                    # JSON built by the server (the install snapshot) spells times in UTC, as asyncpg does.
                    "TimeZone": "UTC",
                    "statement_timeout": _ms(limits.statement_s),
                    "lock_timeout": _ms(limits.lock_s),
                    "idle_in_transaction_session_timeout": _ms(IDLE_IN_TRANSACTION_S),
                },
            }
        )

    async def start_connection_pool(self, **kwargs: Any) -> None:
        # No connection up front: a worker started while the database is down still starts, says so
        # on /health/ready and connects once the database is back.
        await super().start_connection_pool(**{"min_size": 0, "init": _pg_connected, "reset": _keep_session, **kwargs})

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
        if _recorded.get() is not None:
            _record("query", str(querystring), self.current_transaction.get() is not None)
        with _unavailable_on_bad_days():
            return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        _record("query", ddl, self.current_transaction.get() is not None)
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


async def _pg_connected(connection: Any) -> None:
    _record("connect")


async def _keep_session(connection: Any) -> None:
    """What a connection given back to the pool needs reset: nothing beyond the rollback of an open
    transaction asyncpg always does. asyncpg's default also sends `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL` — a round trip after every query — for session state this
    project never makes: its advisory locks are transaction-scoped, it holds no cursors outside a
    transaction, listens to nothing and sets nothing for a session (the timeouts are the connection's
    startup settings, which RESET ALL would return to anyway)."""


class _PostgresTransaction(PostgresTransaction):
    engine: BoundedPostgresEngine

    async def begin(self) -> None:
        _record("begin", "BEGIN")
        await super().begin()

    async def commit(self) -> None:
        _record("commit", "COMMIT")
        await super().commit()

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
        _record("rollback", "ROLLBACK")
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


# Connections each event loop keeps open (a worker process has one loop). Reads run in parallel on
# them (WAL; sqlite3 lets go of the GIL while SQLite works); writers take turns on the write lock.
SQLITE_CONNECTIONS = 8
# An open connection keeps other processes from locking the file exclusively (a backup tool, an
# operator's VACUUM): one left unused this long is closed. Under load the busy ones stay open.
SQLITE_IDLE_CLOSE_S = 1.0

FileIdentity = tuple[int, int] | None


def _file_identity(path: str) -> FileIdentity:
    """(device, inode) of the database file, None while there is none at `path`."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


@dataclass(slots=True)
class _Connections:
    """The open connections of one event loop: most recently used last, at most `lent` out at once."""

    lent: asyncio.Semaphore
    idle: list[tuple[aiosqlite.Connection, FileIdentity, float]]  # and when it was given back
    files: dict[int, FileIdentity]  # id(connection) of those lent out -> the file it has open
    reaper: asyncio.TimerHandle | None = None

    def close_unused(self) -> None:
        """Close what was idle SQLITE_IDLE_CLOSE_S; come back for the rest when it will have been."""
        self.reaper = None
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - SQLITE_IDLE_CLOSE_S
        while self.idle and self.idle[0][2] <= cutoff:  # the least recently used first
            self.idle.pop(0)[0].stop()
        if self.idle:
            self.reaper = loop.call_at(self.idle[0][2] + SQLITE_IDLE_CLOSE_S, self.close_unused)


async def _in_thread(connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], Any]) -> Any:
    """Run `work` on the connection's own thread: several statements for one hop there and back."""
    return await connection._execute(work, connection._conn)  # aiosqlite's queue, as its own methods use it


def _begin(busy_timeout_ms: int, kind: str, db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    db.execute(f"BEGIN {kind}")


def _finish(statement: str, busy_timeout_ms: int, db: sqlite3.Connection) -> None:
    db.execute(statement)
    db.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")  # back to what a single statement waits


def _prepare(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA foreign_keys = 1")  # per connection; Piccolo sets it before every query instead
    db.execute("PRAGMA synchronous = FULL")  # SQLite's default, stated: a commit is fsynced before it returns


class BoundedSQLiteEngine(SQLiteEngine):
    """SQLite on reused connections, where a writer waits a bounded time for the write lock, and bad
    days are 503s.

    Piccolo's engine opens a connection (and its thread) for every query outside a transaction; here
    each event loop keeps up to SQLITE_CONNECTIONS open and lends them out, for one query or one
    transaction. A connection is lent only while the file at `path` is still the one it opened (a file
    moved away or replaced is not written to behind the operator's back), and one whose state is in
    doubt (an error, a cancellation mid-statement) is closed, never lent again.

    Write transactions of one process take an asyncio lock first, so they queue here in order
    instead of polling SQLite's busy handler against each other: only another process holding the
    write lock makes a writer wait on SQLite itself. The wait for both together is bounded.
    """

    def __init__(self, path: str, lock_timeout_s: float) -> None:
        if sqlite3.sqlite_version_info < (3, 35):  # RETURNING, which every insert here relies on
            raise RuntimeError(f"SQLite 3.35 or newer is required, found {sqlite3.sqlite_version}")
        super().__init__(path=path, timeout=lock_timeout_s)  # the busy timeout of single statements
        self.lock_timeout_s = lock_timeout_s
        self.busy_timeout_ms = max(1, int(lock_timeout_s * 1000))
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connections] = weakref.WeakKeyDictionary()

    def write_lock(self) -> asyncio.Lock:
        """The write lock of the running event loop (asyncio locks belong to one loop)."""
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    def _connections(self) -> _Connections:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _Connections(asyncio.Semaphore(SQLITE_CONNECTIONS), [], {})
        return pool

    async def lend(self, timeout_s: float) -> aiosqlite.Connection:
        """An open connection of this loop, waiting at most `timeout_s` for one to be free."""
        pool = self._connections()
        async with asyncio.timeout(timeout_s):  # TimeoutError (an OSError): unavailable
            await pool.lent.acquire()
        try:
            file = _file_identity(self.path)
            while pool.idle:
                connection, opened, _ = pool.idle.pop()
                if file is not None and opened == file:
                    pool.files[id(connection)] = file
                    return connection
                connection.stop()  # its file was moved away or replaced
            connection = await self._open()
            pool.files[id(connection)] = _file_identity(self.path)
            return connection
        except BaseException:
            pool.lent.release()
            raise

    def give_back(self, connection: aiosqlite.Connection, reusable: bool) -> None:
        """Return a lent connection; one in doubt is closed (after whatever it still has queued)."""
        pool = self._connections()
        file = pool.files.pop(id(connection), None)
        if reusable and file is not None:
            loop = asyncio.get_running_loop()
            pool.idle.append((connection, file, loop.time()))
            if pool.reaper is None:
                pool.reaper = loop.call_later(SQLITE_IDLE_CLOSE_S, pool.close_unused)
        else:
            connection.stop()
        pool.lent.release()

    async def close_connections(self) -> None:
        """Close this loop's idle connections (a worker shutting down)."""
        pool = self._connections()
        idle, pool.idle = pool.idle, []
        for connection, _, _ in idle:
            await connection.close()

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True  # an idle connection must not keep a finished process alive
        await connection
        try:
            connection.row_factory = dict_factory
            await _in_thread(connection, _prepare)
        except BaseException:
            connection.stop()
            raise
        _record("connect")
        return connection

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        """Outside a transaction: one statement on a lent connection (autocommit)."""
        connection = await self.lend(self.lock_timeout_s)
        reusable = False
        try:
            rows = await connection.execute_fetchall(query, args or [])
            reusable = True
            return rows
        except sqlite3.IntegrityError:  # a constraint refused the statement; the connection is fine
            reusable = True
            raise
        finally:
            self.give_back(connection, reusable)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        """Inside a transaction: one hop to the connection's thread (foreign keys are on already)."""
        return await connection.execute_fetchall(query, args or [])

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        if _recorded.get() is not None:
            _record("query", str(querystring), self.current_transaction.get() is not None)
        with _unavailable_on_bad_days():
            return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        _record("query", ddl, self.current_transaction.get() is not None)
        with _unavailable_on_bad_days():
            return await super().run_ddl(ddl, in_pool)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _SQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class _SQLiteTransaction(SQLiteTransaction):
    """A transaction on one lent connection; IMMEDIATE ones queue on the process's write lock first."""

    engine: BoundedSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._locked: asyncio.Lock | None = None
        self._lent: aiosqlite.Connection | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.engine.lock_timeout_s
        try:
            with _unavailable_on_bad_days():
                if self.transaction_type is TransactionType.immediate:
                    lock = self.engine.write_lock()
                    async with asyncio.timeout(self.engine.lock_timeout_s):  # TimeoutError: unavailable
                        await lock.acquire()
                    self._locked = lock
                self._lent = self.connection = await self.engine.lend(max(0.001, deadline - loop.time()))
                # What is left of the wait after queueing in this process goes to waiting on other processes.
                remaining_ms = max(1, int((deadline - loop.time()) * 1000))
                _record("begin", f"BEGIN {self.transaction_type.value}")
                await _in_thread(self.connection, partial(_begin, remaining_ms, self.transaction_type.value))
        except BaseException:
            self._end(reusable=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def commit(self) -> None:
        _record("commit", "COMMIT", True)
        await _in_thread(self.connection, partial(_finish, "COMMIT", self.engine.busy_timeout_ms))
        self._committed = True

    async def rollback(self) -> None:
        _record("rollback", "ROLLBACK", True)
        await _in_thread(self.connection, partial(_finish, "ROLLBACK", self.engine.busy_timeout_ms))
        self._rolled_back = True

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        ended = False
        try:
            with _unavailable_on_bad_days():
                if exception is not None:
                    if not self._rolled_back:
                        await self.rollback()
                elif not self._committed and not self._rolled_back:
                    await self.commit()
            ended = True
        finally:
            self.engine.current_transaction.reset(self.context)
            self._end(reusable=ended)
        return exception is None

    def _end(self, reusable: bool) -> None:
        """Give the connection back (closed unless the transaction ended cleanly) and the write lock."""
        if self._lent is not None:
            self.engine.give_back(self._lent, reusable)
            self._lent = None
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
