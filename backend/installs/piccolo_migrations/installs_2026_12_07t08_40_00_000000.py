"""An installer's installs follow their jobs, not the connection (issue 13).

Until now `installs.installer_subject` was a trigger-kept copy of `connections.installer_subject`, a tie
only the demo seed ever set: the installer of a connection saw, and could act on, the customer's own
installs there. An installer now starts an install from one of their jobs (backend/jobs), and the
service writes `installer_subject` once, at insert: the installer whose job it is (an installer's
install), NULL for a customer's. So the triggers go, `connections.installer_subject` goes (nothing sets
or reads it now), and the column is backfilled as the service would have written it. The list index
`installs_installer (installer_subject, created_at, id)` stays as it is.

`allocated_asset`: the asset the install's job reserved, copied at insert, so a scan can refuse any
other (`qr/not-allocated-asset`) without the install domain knowing jobs.

Hand-written: triggers and per-engine DDL; SQLite drops a column only once no index names it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "installs.installer_subject written by the service; connections.installer_subject dropped"

POSTGRES = [
    "DROP TRIGGER IF EXISTS installs_installer_subject ON installs",
    "DROP FUNCTION IF EXISTS installs_installer_subject()",
    "DROP TRIGGER IF EXISTS connections_installer_subject ON connections",
    "DROP FUNCTION IF EXISTS connections_installer_subject()",
]
SQLITE = [
    "DROP TRIGGER IF EXISTS installs_installer_subject",
    "DROP TRIGGER IF EXISTS installs_installer_subject_moved",
    "DROP TRIGGER IF EXISTS connections_installer_subject",
]
COMMON = [
    "UPDATE installs SET installer_subject = CASE WHEN created_by_role = 'installer' THEN created_by ELSE NULL END",
    "DROP INDEX IF EXISTS connections_installer_subject",
    "ALTER TABLE connections DROP COLUMN installer_subject",
    "ALTER TABLE installs ADD COLUMN allocated_asset INTEGER NULL REFERENCES assets (id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in (SQLITE if engine.engine_type == "sqlite" else POSTGRES) + COMMON:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
