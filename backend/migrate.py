"""Apply the committed Piccolo migrations; on SQLite switch the file to WAL once (it is stored)."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.sqlite import SQLiteEngine

from backend.db import unbounded_statements
from backend.installs.tables import Install


async def migrate() -> None:
    """Bring the schema up to date; idempotent."""
    with unbounded_statements(Install._meta.db):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"migration failed: {result.message}")
    engine = Install._meta.db
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
