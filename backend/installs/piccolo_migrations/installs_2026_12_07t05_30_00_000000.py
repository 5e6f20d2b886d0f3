"""Lists and lookups whose cost does not grow with the table (issue 11).

- Everyone's installs, newest first (specialists, admins), with or without a state: `(created_at, id)`
  and `(state, created_at, id)`, the order and the keyset of `repository.installs_scoped`.
- The reuse bands hold informative photos only: a uniform picture's bands are all alike, so thousands
  of them shared one value and every lookup meeting it read them all (then threw them away). The
  indexes keep their names (and `index=True` in tables.py), so a later auto-migration finds them.
Hand-written: auto-migrations cannot express partial or composite indexes; the same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T05:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "list indexes on installs; informative-only reuse bands"

BANDS = [f"{prefix}_b{i}" for prefix in ("phash", "core") for i in range(4)]
STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS installs_created ON installs (created_at, id)",
    "CREATE INDEX IF NOT EXISTS installs_state_created ON installs (state, created_at, id)",
    *(
        statement
        for band in BANDS
        for statement in (
            f"DROP INDEX IF EXISTS photos_{band}",
            f"CREATE INDEX photos_{band} ON photos ({band}) WHERE hash_informative",
        )
    ),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
