"""`info_requests` (issue 13, a conversation on a request for information): what a specialist asked the
customer for (an extra photo in words, a question) and the customer's answer.

Hand-written: the table as Piccolo's create_table writes it on each engine (SERIAL vs INTEGER id); the
index on `install` serves the install's snapshot, which reads an install's requests as one child list.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T10:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "info_requests"

_TABLE = (
    'CREATE TABLE "info_requests" ("id" {id} PRIMARY KEY NOT NULL, '
    '"install" UUID NOT NULL REFERENCES "installs" ("id") ON DELETE CASCADE ON UPDATE CASCADE, '
    "\"asked_by\" VARCHAR(128) NOT NULL DEFAULT '', "
    '"message" TEXT DEFAULT null, "photo_label" TEXT DEFAULT null, "question" TEXT DEFAULT null, '
    '"answer" TEXT DEFAULT null, "answered_by" VARCHAR(128) DEFAULT null, '
    '"answered_at" TIMESTAMPTZ DEFAULT null, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"closed_at" TIMESTAMPTZ DEFAULT null)'
)
INDEX = "CREATE INDEX info_requests_install ON info_requests (install)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl(_TABLE.format(id="INTEGER" if engine.engine_type == "sqlite" else "SERIAL"))
        await engine.run_ddl(INDEX)

    manager.add_raw(run)
    return manager
