"""Review cases get a kind: `escalation` (driven by the install's state) and follow-ups that leave the
state alone (qa_sample, device_silent, device_mismatch, reading_mismatch). An install may now have one
case per kind, so the UNIQUE on `install` goes; the next migration adds UNIQUE (install, kind).

PostgreSQL drops the constraint by name (looked up, not guessed). SQLite cannot drop a column
constraint, so the table is rebuilt (nothing references review_cases) and its indexes recreated.
The new columns are added by the manager, so Piccolo's own schema history knows them; the unique
drop is not in that history (Piccolo's alter_column cannot do it on SQLite), so a later `--auto`
proposes `alter_column(install, unique=False)`: delete that part."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-01T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review case kinds: kind and detail columns, no unique install"

_COLUMNS = (
    '"id", "install", "state", "reasons", "reason_tags", "risk", "due_at", "asset_type", "municipality", '
    '"opened_at", "claimed_by", "lease_expires_at", "first_claimed_by", "approvals", "version", "closed_at"'
)
SQLITE = [
    'CREATE TABLE "review_cases_rebuild" ("id" INTEGER PRIMARY KEY NOT NULL, '
    '"install" UUID REFERENCES "installs" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, '
    "\"state\" VARCHAR(20) NOT NULL DEFAULT '', \"reasons\" JSON NOT NULL DEFAULT '[]', "
    "\"reason_tags\" VARCHAR(200) NOT NULL DEFAULT '', \"risk\" INTEGER NOT NULL DEFAULT 0, "
    '"due_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    "\"asset_type\" VARCHAR(40) NOT NULL DEFAULT '', \"municipality\" VARCHAR(80) NOT NULL DEFAULT '', "
    '"opened_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "claimed_by" VARCHAR(128) DEFAULT null, '
    '"lease_expires_at" TIMESTAMPTZ DEFAULT null, "first_claimed_by" VARCHAR(128) DEFAULT null, '
    "\"approvals\" JSON NOT NULL DEFAULT '[]', \"version\" INTEGER NOT NULL DEFAULT 1, "
    '"closed_at" TIMESTAMPTZ DEFAULT null)',
    f'INSERT INTO "review_cases_rebuild" ({_COLUMNS}) SELECT {_COLUMNS} FROM "review_cases"',
    'DROP TABLE "review_cases"',
    'ALTER TABLE "review_cases_rebuild" RENAME TO "review_cases"',
    'CREATE INDEX review_cases_state ON "review_cases" ("state")',
    'CREATE INDEX review_cases_due_at ON "review_cases" ("due_at")',
    'CREATE INDEX review_cases_asset_type ON "review_cases" ("asset_type")',
    'CREATE INDEX review_cases_municipality ON "review_cases" ("municipality")',
]
POSTGRES = [
    "DO $$ DECLARE c text; BEGIN "
    "FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'review_cases'::regclass AND contype = 'u' "
    "LOOP EXECUTE format('ALTER TABLE review_cases DROP CONSTRAINT %I', c); END LOOP; END $$",
]

_PARAMS = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="review", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    manager.add_column(
        table_class_name="ReviewCase",
        tablename="review_cases",
        column_name="kind",
        db_column_name="kind",
        column_class_name="Varchar",
        column_class=Varchar,
        params={**_PARAMS, "length": 30, "default": "escalation", "index": True},
        schema=None,
    )
    manager.add_column(
        table_class_name="ReviewCase",
        tablename="review_cases",
        column_name="detail",
        db_column_name="detail",
        column_class_name="JSON",
        column_class=JSON,
        params={**_PARAMS, "default": "{}", "index": False},
        schema=None,
    )
    return manager
