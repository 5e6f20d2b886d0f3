"""The phone's own clock beside the server's: `client_time` on installs and location fixes (issue 12).

Hand-written: Piccolo's auto-migrations would write the same two add_columns (nullable, no default)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "client_time on installs and location_fixes"

_PARAMS = {
    "default": None,
    "null": True,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)
    for table_class_name, tablename in (("Install", "installs"), ("LocationFix", "location_fixes")):
        manager.add_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name="client_time",
            db_column_name="client_time",
            column_class_name="Timestamptz",
            column_class=Timestamptz,
            params=dict(_PARAMS),
            schema=None,
        )
    return manager
