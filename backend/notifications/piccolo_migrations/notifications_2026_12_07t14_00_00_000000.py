"""A typed address waits for its check (notification_preferences.email_pending), and the daily count of
a customer's address checks reads an index (notifications_subject: subject, created_at).

Hand-written like the first migration of this app: the same DDL on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "address checks"

STATEMENTS = [
    'ALTER TABLE "notification_preferences" ADD COLUMN "email_pending" VARCHAR(320) DEFAULT null',
    "CREATE INDEX notifications_subject ON notifications (subject, created_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
