"""A customer's connections by EAN from one index: `(owner_subject, ean)`, partial on an owner
(GET /mobile/v1/connections: filter, order and keyset; tests/test_list_plans.py EXPLAINs it).
Hand-written: auto-migrations cannot express partial composite indexes; the same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T08:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connections_owner index"

STATEMENT = "CREATE INDEX connections_owner ON connections (owner_subject, ean) WHERE owner_subject IS NOT NULL"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(STATEMENT)

    manager.add_raw(run)
    return manager
