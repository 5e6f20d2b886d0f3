"""A check's fix as a msgid of the message catalogs (issue 13, texts from message catalogs).

`check_results.fix` (the msgid: the English text) and `fix_params` (its placeholders' values) replace
`fix_nl` and `fix_en`, so a fix is worded in the reader's language when it is shown, in any language
with a catalog. Rows checked before keep their English text as their msgid: a fix without placeholders
is a msgid of today's catalogs and reads in Dutch again; one that had a number in it reads in English.

Hand-written: raw ADD/DROP COLUMN, the same SQL on both engines (SQLite has DROP COLUMN since 3.35).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "check fixes as msgids"

STATEMENTS = [
    "ALTER TABLE check_results ADD COLUMN fix TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE check_results ADD COLUMN fix_params JSON NOT NULL DEFAULT '{}'",
    "UPDATE check_results SET fix = fix_en",
    "ALTER TABLE check_results DROP COLUMN fix_nl",
    "ALTER TABLE check_results DROP COLUMN fix_en",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
