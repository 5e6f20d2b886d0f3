"""One answer per specialist and known answer: a raw unique index, the same SQL on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T20:12:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique calibration answer per specialist"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="quality", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS calibration_answers_once "
            'ON "calibration_answers" ("known_answer", "specialist")'
        )

    manager.add_raw(run)
    return manager
