"""The notification outbox and customers' preferences (issue 13).

Hand-written: the tables as Piccolo's create_table writes them on each engine (the id column and the UUID
default differ), and indexes Piccolo cannot express:
- `notifications_event_channel`: UNIQUE (event, channel), so one event is told once per channel;
- `notifications_due (next_attempt_at)`, partial on pending rows: what the sender reads, however many
  sent rows pile up behind it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications and notification preferences"

_NOTIFICATIONS = (
    'CREATE TABLE "notifications" ("id" UUID PRIMARY KEY NOT NULL{uuid_default}, '
    "\"event\" VARCHAR(200) NOT NULL DEFAULT '', \"channel\" VARCHAR(16) NOT NULL DEFAULT '', "
    "\"moment\" VARCHAR(32) NOT NULL DEFAULT '', \"install\" UUID DEFAULT null, "
    "\"subject\" VARCHAR(128) NOT NULL DEFAULT '', \"facts\" JSON NOT NULL DEFAULT '{{}}', "
    "\"state\" VARCHAR(16) NOT NULL DEFAULT '', \"attempts\" INTEGER NOT NULL DEFAULT 0, "
    '"next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "locked_until" TIMESTAMPTZ DEFAULT null, '
    '"recipient" VARCHAR(320) DEFAULT null, "sent_at" TIMESTAMPTZ DEFAULT null, "last_error" TEXT DEFAULT null, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
_PREFERENCES = (
    'CREATE TABLE "notification_preferences" ("id" {id} PRIMARY KEY NOT NULL, '
    "\"subject\" VARCHAR(128) UNIQUE NOT NULL DEFAULT '', \"email\" VARCHAR(320) DEFAULT null, "
    "\"provider_email\" VARCHAR(320) DEFAULT null, \"language\" VARCHAR(2) NOT NULL DEFAULT 'nl', "
    "\"moments\" JSON NOT NULL DEFAULT '[]', \"email_enabled\" BOOLEAN NOT NULL DEFAULT true, "
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
INDEXES = [
    "CREATE UNIQUE INDEX notifications_event_channel ON notifications (event, channel)",
    "CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending'",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        await engine.run_ddl(_NOTIFICATIONS.format(uuid_default="" if sqlite else " DEFAULT gen_random_uuid()"))
        await engine.run_ddl(_PREFERENCES.format(id="INTEGER" if sqlite else "SERIAL"))
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
