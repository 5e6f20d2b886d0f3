"""The role a console session was opened with (issue 13: operators sign in too). Sessions from before
were specialists' (only they could open one), so the default says so.

Hand-written: Piccolo's auto-migrations would write the same add_column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "role on console sessions"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="console", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ConsoleSession",
        tablename="console_sessions",
        column_name="role",
        db_column_name="role",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "specialist",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
