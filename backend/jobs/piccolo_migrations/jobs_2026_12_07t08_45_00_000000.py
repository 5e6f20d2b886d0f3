"""The jobs table (issue 13): work orders, their assignee, window and allocated asset.

Hand-written: the table as Piccolo's create_table writes it on each engine (SERIAL vs INTEGER id), and
indexes Piccolo cannot express. Each list reads one index in its own filter and order
(tests/test_list_plans.py EXPLAINs them):
- `jobs_window (window_start, id)`: the dispatcher's list; `jobs_state_window` with a state;
- `jobs_installer (installer_subject, window_start, id)`: an installer's jobs (theirs from today on, on
  the phone; all of them for a dispatcher filtering by installer), partial on an installer;
- `jobs_allocation`: UNIQUE on the allocated asset while the job is live, so an asset is reserved for one
  job at a time whatever races; `jobs_install`: UNIQUE on the install started from it (the job follows it).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T08:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "jobs"

_TABLE = (
    'CREATE TABLE "jobs" ("id" {id} PRIMARY KEY NOT NULL, '
    '"connection" INTEGER NOT NULL REFERENCES "connections" ("id") ON DELETE NO ACTION ON UPDATE CASCADE, '
    "\"asset_type\" VARCHAR(40) NOT NULL DEFAULT '', "
    '"asset" INTEGER REFERENCES "assets" ("id") ON DELETE NO ACTION ON UPDATE CASCADE DEFAULT null, '
    '"window_start" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"window_end" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"assignee" VARCHAR(16) DEFAULT null, "installer_subject" VARCHAR(128) DEFAULT null, '
    "\"state\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"install" UUID REFERENCES "installs" ("id") ON DELETE NO ACTION ON UPDATE CASCADE DEFAULT null, '
    '"version" INTEGER NOT NULL DEFAULT 1, "created_by" VARCHAR(128) NOT NULL DEFAULT \'\', '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
INDEXES = [
    "CREATE INDEX jobs_window ON jobs (window_start, id)",
    "CREATE INDEX jobs_state_window ON jobs (state, window_start, id)",
    "CREATE INDEX jobs_installer ON jobs (installer_subject, window_start, id) WHERE installer_subject IS NOT NULL",
    "CREATE UNIQUE INDEX jobs_allocation ON jobs (asset) "
    "WHERE asset IS NOT NULL AND state IN ('planned', 'assigned', 'in_progress')",
    "CREATE UNIQUE INDEX jobs_install ON jobs (install) WHERE install IS NOT NULL",
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
