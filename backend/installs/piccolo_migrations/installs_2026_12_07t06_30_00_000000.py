"""Reuse lookups keyed by 32-bit hash halves instead of 16-bit bands (issue 11).

With 16-bit bands, chance matches grew with the table (a lookup read ~90 rows at 10k photos and ~9,700
at 1M). Each 64-bit hash (whole frame and core) now also keeps its two 32-bit halves, unsigned, in
`phash_h0`/`phash_h1`/`core_h0`/`core_h1`, indexed over informative photos only. Two hashes within 3
bits have one half at most 1 bit apart, so a lookup asks for each half and its 32 one-bit neighbours
(verdict.half_keys); a chance match costs ~33/2^32 per key and row.

Backfill: one UPDATE computed in SQL from the stored signed BIGINT hash (`>>` is arithmetic on both
engines, the mask keeps the low 32 bits unsigned). It rewrites every photo row in one statement: on a
large PostgreSQL table run it when writes are quiet (or split it by id ranges by hand; it is
idempotent). The indexes are built after the backfill. The band indexes and columns are dropped (no
query reads them any more; SQLite >= 3.35 drops columns, after their indexes).
Hand-written: auto-migrations cannot express partial indexes; the same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reuse lookup by 32-bit hash halves; band columns dropped"

HALVES = {"phash": ("phash_h0", "phash_h1"), "core_hash": ("core_h0", "core_h1")}
BANDS = [f"{prefix}_b{i}" for prefix in ("phash", "core") for i in range(4)]
_MASK = 0xFFFFFFFF
STATEMENTS = [
    *(f"ALTER TABLE photos ADD COLUMN {half} BIGINT NULL" for halves in HALVES.values() for half in halves),
    "UPDATE photos SET "
    + ", ".join(f"{hi} = ({source} >> 32) & {_MASK}, {lo} = {source} & {_MASK}" for source, (hi, lo) in HALVES.items())
    + " WHERE phash IS NOT NULL OR core_hash IS NOT NULL",
    *(
        f"CREATE INDEX photos_{half} ON photos ({half}) WHERE hash_informative"
        for halves in HALVES.values()
        for half in halves
    ),
    *(f"DROP INDEX IF EXISTS photos_{band}" for band in BANDS),
    *(f"ALTER TABLE photos DROP COLUMN {band}" for band in BANDS),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
