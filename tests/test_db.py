"""The database is configured so that an acknowledged write survives a crash."""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine

from backend.installs.tables import Install
from backend.settings import Settings


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
