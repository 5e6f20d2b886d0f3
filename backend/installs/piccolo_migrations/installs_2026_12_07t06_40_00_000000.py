"""An installer's installs, newest first, from one index (issue 11).

The installer's list filtered by `connections.installer_subject` through a join: PostgreSQL walked
`installs_created` backwards until it had a page of theirs (66 ms at 1M installs), and a join through
`connections` would sort all of the installer's installs for every page. The installer's subject is
now also kept on `installs` and indexed with the list's order and keyset: `(installer_subject,
created_at, id)`, partial on a known installer. Triggers keep it equal to the connection's: set on
insert (and when an install's connection changes), rewritten on the installs of a connection whose
installer changes, so no code path has to remember it. Backfilled in one UPDATE from `connections`.
Hand-written: Piccolo cannot express triggers or partial composite indexes; per-engine trigger SQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "installer_subject on installs, trigger-kept; installs_installer index"

_OF_CONNECTION = "(SELECT c.installer_subject FROM connections c WHERE c.id = {}.connection)"
COMMON = [
    "ALTER TABLE installs ADD COLUMN installer_subject VARCHAR(128) NULL",
    f"UPDATE installs SET installer_subject = {_OF_CONNECTION.format('installs')}",
    "CREATE INDEX installs_installer ON installs (installer_subject, created_at, id) "
    "WHERE installer_subject IS NOT NULL",
]
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION installs_installer_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.installer_subject := {_OF_CONNECTION.format("NEW")};
    RETURN NEW;
END $$""",
    "CREATE TRIGGER installs_installer_subject BEFORE INSERT OR UPDATE OF connection, installer_subject "
    "ON installs FOR EACH ROW EXECUTE FUNCTION installs_installer_subject()",
    """CREATE OR REPLACE FUNCTION connections_installer_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE installs SET installer_subject = NEW.installer_subject WHERE connection = NEW.id;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER connections_installer_subject AFTER UPDATE OF installer_subject ON connections "
    "FOR EACH ROW WHEN (OLD.installer_subject IS DISTINCT FROM NEW.installer_subject) "
    "EXECUTE FUNCTION connections_installer_subject()",
]
_SET_NEW = f"UPDATE installs SET installer_subject = {_OF_CONNECTION.format('NEW')} WHERE id = NEW.id;"
SQLITE = [
    f"CREATE TRIGGER installs_installer_subject AFTER INSERT ON installs BEGIN {_SET_NEW} END",
    # Also when someone writes the column itself: it only ever follows the connection.
    "CREATE TRIGGER installs_installer_subject_moved AFTER UPDATE OF connection, installer_subject ON installs "
    f"WHEN NEW.installer_subject IS NOT {_OF_CONNECTION.format('NEW')} BEGIN {_SET_NEW} END",
    "CREATE TRIGGER connections_installer_subject AFTER UPDATE OF installer_subject ON connections "
    "WHEN OLD.installer_subject IS NOT NEW.installer_subject "
    "BEGIN UPDATE installs SET installer_subject = NEW.installer_subject WHERE connection = NEW.id; END",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
