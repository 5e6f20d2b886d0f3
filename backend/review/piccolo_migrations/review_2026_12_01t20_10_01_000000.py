"""One case per install and kind: a raw unique index, the same SQL on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T20:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique review case per install and kind"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="review", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX IF NOT EXISTS review_cases_install_kind ON "review_cases" ("install", "kind")'
        )

    manager.add_raw(run)
    return manager
