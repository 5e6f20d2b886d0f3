"""The database engine chosen from settings: a SQLite file by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.settings import Settings


def engine_for(settings: Settings) -> Engine:
    """Build the engine; on SQLite the busy timeout lets writers wait instead of failing."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)
    if not settings.database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return PostgresEngine(config={"dsn": settings.database_url})


def write_transaction(engine: Engine):  # noqa: ANN201 - each engine returns its own transaction type
    """A transaction that reads then writes; on SQLite it takes the write lock up front (IMMEDIATE)."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
