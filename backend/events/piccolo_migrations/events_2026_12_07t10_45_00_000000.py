"""Webhook subscriptions (issue 13) and dead letters.

Hand-written: the table as Piccolo's create_table writes it on each engine (SERIAL vs INTEGER id), columns
added to outbox_deliveries with a NULL default (SQLite adds a REFERENCES column only so), and the indexes
of the admin's lists, each read in its own filter and order:
- `outbox_deliveries_dead (id) WHERE dead_at IS NOT NULL`: GET /admin/v1/deliveries?state=dead;
- `outbox_deliveries_failing (id)`, partial on failed attempts not yet given up: ?state=failing;
- `outbox_deliveries_subscription`: deleting a subscription finds its deliveries (ON DELETE CASCADE).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T10:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook subscriptions, dead letters"

_TABLE = (
    'CREATE TABLE "webhook_subscriptions" ("id" {id} PRIMARY KEY NOT NULL, '
    "\"url\" VARCHAR(500) NOT NULL DEFAULT '', "
    "\"event_types\" JSON NOT NULL DEFAULT '[]', "
    "\"secret\" VARCHAR(64) NOT NULL DEFAULT '', "
    "\"created_by\" VARCHAR(128) NOT NULL DEFAULT '', "
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
STATEMENTS = [
    'ALTER TABLE "outbox_deliveries" ADD COLUMN "subscription" INTEGER REFERENCES "webhook_subscriptions" ("id") '
    "ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null",
    'ALTER TABLE "outbox_deliveries" ADD COLUMN "retried_at" TIMESTAMPTZ DEFAULT null',
    'ALTER TABLE "outbox_deliveries" ADD COLUMN "dead_at" TIMESTAMPTZ DEFAULT null',
    "CREATE INDEX outbox_deliveries_dead ON outbox_deliveries (id) WHERE dead_at IS NOT NULL",
    "CREATE INDEX outbox_deliveries_failing ON outbox_deliveries (id) "
    "WHERE delivered_at IS NULL AND dead_at IS NULL AND attempts > 0",
    "CREATE INDEX outbox_deliveries_subscription ON outbox_deliveries (subscription)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl(_TABLE.format(id="INTEGER" if engine.engine_type == "sqlite" else "SERIAL"))
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
