"""The visits table (issue 13, "a person comes by"): a visit offered on a customer's escalated install, the
windows it offers, the one picked and the job it became.

Hand-written, like the jobs table: the table as Piccolo's create_table writes it on each engine, and indexes
Piccolo cannot express:
- `visits_install (install, id)`: an install's latest visit (the install view's snapshot reads it);
- `visits_live`: UNIQUE on the install while its visit is offered or planned, so two offers racing (a
  specialist and the policy) leave one;
- `visits_job`: UNIQUE on the job a pick made (the job's end finds its visit).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T10:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "visits"

_TABLE = (
    'CREATE TABLE "visits" ("id" {id} PRIMARY KEY NOT NULL, '
    '"install" UUID NOT NULL REFERENCES "installs" ("id") ON DELETE NO ACTION ON UPDATE CASCADE, '
    '"case_id" INTEGER DEFAULT null, '
    "\"state\" VARCHAR(16) NOT NULL DEFAULT '', "
    "\"windows\" JSON NOT NULL DEFAULT '[]', "
    '"window_start" TIMESTAMPTZ DEFAULT null, "window_end" TIMESTAMPTZ DEFAULT null, '
    '"installer_subject" VARCHAR(128) DEFAULT null, '
    "\"brief\" JSON NOT NULL DEFAULT '{{}}', "
    '"job" INTEGER REFERENCES "jobs" ("id") ON DELETE NO ACTION ON UPDATE CASCADE DEFAULT null, '
    "\"offered_by\" VARCHAR(128) NOT NULL DEFAULT '', "
    '"version" INTEGER NOT NULL DEFAULT 1, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
INDEXES = [
    "CREATE INDEX visits_install ON visits (install, id)",
    "CREATE UNIQUE INDEX visits_live ON visits (install) WHERE state IN ('offered', 'planned')",
    "CREATE UNIQUE INDEX visits_job ON visits (job) WHERE job IS NOT NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl(_TABLE.format(id="INTEGER" if engine.engine_type == "sqlite" else "SERIAL"))
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
