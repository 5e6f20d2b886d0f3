from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T13:12:26:405495"
VERSION = "1.38.0"
DESCRIPTION = "photo fingerprint"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="installs", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="fingerprint",
        db_column_name="fingerprint",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
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
