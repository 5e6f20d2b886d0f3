"""`jobs_self_install (connection, asset_type)`, partial on the customer's own assigned jobs: the approval
of a customer's install finds the self-install job it completes with one index probe (backend/jobs/flows.py).
Hand-written: a partial index; the same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "jobs_self_install index"

STATEMENT = (
    "CREATE INDEX jobs_self_install ON jobs (connection, asset_type) "
    "WHERE assignee = 'customer' AND state = 'assigned'"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(STATEMENT)

    manager.add_raw(run)
    return manager
