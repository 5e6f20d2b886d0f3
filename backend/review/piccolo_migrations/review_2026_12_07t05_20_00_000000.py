"""The queue's pages and counts stop growing with the table (issue 11).

- `review_cases_queue`: open cases only, in the queue's own order `(due_at, -risk, id)`, so a page is
  one range of it and a cursor a row comparison; `review_cases_open_since` finds the oldest open case.
- `review_queue_counts`: open cases by kind and reason, kept by triggers in the same transaction as
  every INSERT, DELETE, or UPDATE of state, kind or reasons (the same rules on both engines; a trigger
  cannot be forgotten by a code path). Filled once here from the rows that already exist.
Hand-written: auto-migrations cannot express partial or expression indexes, nor triggers.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T05:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review queue index and counts"

BOTH = [
    "CREATE INDEX IF NOT EXISTS review_cases_queue ON review_cases (due_at, (-risk), id) WHERE state = 'open'",
    "CREATE INDEX IF NOT EXISTS review_cases_open_since ON review_cases (opened_at) WHERE state = 'open'",
    "CREATE UNIQUE INDEX IF NOT EXISTS review_queue_counts_key ON review_queue_counts (kind, reason)",
    "DELETE FROM review_queue_counts",
    "INSERT INTO review_queue_counts (kind, reason, n) "
    "SELECT kind, '', count(*) FROM review_cases WHERE state = 'open' GROUP BY kind",
]

# A case counts once under (kind, '') and once under each distinct reason it carries.
_SQLITE_ADD = (
    "INSERT INTO review_queue_counts (kind, reason, n) "
    "SELECT NEW.kind, r.reason, 1 FROM (SELECT '' AS reason UNION SELECT value FROM json_each(NEW.reasons)) AS r "
    "WHERE NEW.state = 'open' ON CONFLICT (kind, reason) DO UPDATE SET n = n + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE review_queue_counts SET n = n - 1 WHERE OLD.state = 'open' AND kind = OLD.kind "
    "AND (reason = '' OR reason IN (SELECT value FROM json_each(OLD.reasons)));"
)
SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS review_queue_counts_insert AFTER INSERT ON review_cases "
    f"WHEN NEW.state = 'open' BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER IF NOT EXISTS review_queue_counts_update AFTER UPDATE OF state, kind, reasons ON review_cases "
    f"WHEN OLD.state = 'open' OR NEW.state = 'open' BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    "CREATE TRIGGER IF NOT EXISTS review_queue_counts_delete AFTER DELETE ON review_cases "
    f"WHEN OLD.state = 'open' BEGIN {_SQLITE_REMOVE} END",
    "INSERT INTO review_queue_counts (kind, reason, n) SELECT c.kind, j.value, count(DISTINCT c.id) "
    "FROM review_cases c, json_each(c.reasons) j WHERE c.state = 'open' GROUP BY c.kind, j.value",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION review_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'open' THEN "
    "UPDATE review_queue_counts SET n = n - 1 WHERE kind = OLD.kind "
    "AND (reason = '' OR reason IN (SELECT json_array_elements_text(OLD.reasons))); "
    "END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'open' THEN "
    "INSERT INTO review_queue_counts (kind, reason, n) "
    "SELECT NEW.kind, r, 1 FROM (SELECT '' AS r UNION SELECT json_array_elements_text(NEW.reasons)) AS rs "
    "ORDER BY r ON CONFLICT (kind, reason) DO UPDATE SET n = review_queue_counts.n + 1; "
    "END IF; "
    "RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS review_queue_count ON review_cases",
    "CREATE TRIGGER review_queue_count AFTER INSERT OR DELETE OR UPDATE OF state, kind, reasons ON review_cases "
    "FOR EACH ROW EXECUTE FUNCTION review_queue_count()",
    "INSERT INTO review_queue_counts (kind, reason, n) SELECT c.kind, j.value, count(DISTINCT c.id) "
    "FROM review_cases c CROSS JOIN LATERAL json_array_elements_text(c.reasons) AS j(value) "
    "WHERE c.state = 'open' GROUP BY c.kind, j.value",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="review", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in BOTH + (SQLITE if engine.engine_type == "sqlite" else POSTGRES):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
