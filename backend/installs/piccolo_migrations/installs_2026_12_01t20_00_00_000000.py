"""Photo content measures, crop-robust reuse hashes, a located-but-unread QR symbol, and the phone's own
start time of an install (offline work)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Boolean, DoublePrecision, Integer, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "photo content and reuse hashes, install start time"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="qr_symbol_seen",
        db_column_name="qr_symbol_seen",
        column_class_name="Boolean",
        column_class=Boolean,
        params={"default": False, "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_hash",
        db_column_name="core_hash",
        column_class_name="BigInt",
        column_class=BigInt,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_b0",
        db_column_name="core_b0",
        column_class_name="Integer",
        column_class=Integer,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": True, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_b1",
        db_column_name="core_b1",
        column_class_name="Integer",
        column_class=Integer,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": True, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_b2",
        db_column_name="core_b2",
        column_class_name="Integer",
        column_class=Integer,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": True, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_b3",
        db_column_name="core_b3",
        column_class_name="Integer",
        column_class=Integer,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": True, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="core_fingerprint",
        db_column_name="core_fingerprint",
        column_class_name="Varchar",
        column_class=Varchar,
        params={"length": 64, "default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="hash_informative",
        db_column_name="hash_informative",
        column_class_name="Boolean",
        column_class=Boolean,
        params={"default": True, "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="edge_density",
        db_column_name="edge_density",
        column_class_name="DoublePrecision",
        column_class=DoublePrecision,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Photo",
        tablename="photos",
        column_name="contrast",
        db_column_name="contrast",
        column_class_name="DoublePrecision",
        column_class=DoublePrecision,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="Install",
        tablename="installs",
        column_name="started_at",
        db_column_name="started_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={"default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    return manager
