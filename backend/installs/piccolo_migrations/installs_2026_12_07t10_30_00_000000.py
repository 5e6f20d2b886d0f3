"""Connections and assets over their life (issue 13, item 6).

- `installs.customer_subject`: the customer an install belongs to, written once at insert (the
  connection's owner then), backfilled from the owners of today. A customer's scope was the
  connection's owner *now*, so a new occupant saw the previous one's installs and the previous one lost
  their own history; the list reads `installs_customer (customer_subject, created_at, id)`.
- `events.connection`: the connection an event is about (claims, releases, re-assignments, asset
  swaps), so a connection's audit trail is one index walk (`events_connection`).
- `assets.label_key_id` / `label_issued_at`: the QR key the asset's last issued label was signed with
  (unknown, NULL, for labels issued before this), `retired_at`, and `replaced_by` (the asset that took
  its place in a swap); admin lists read `assets_type`, `assets_status` and `assets_label_key`, each
  ending in the serial they are ordered by. Connections are searched by postcode through
  `connections_postcode_ean (postcode, ean)`, which replaces `connections_postcode (postcode)`.

Hand-written: raw ADD COLUMN and composite/partial indexes; the same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "install customer, event connection, asset label key and retirement; admin search indexes"

STATEMENTS = [
    "ALTER TABLE installs ADD COLUMN customer_subject VARCHAR(128) NULL",
    "UPDATE installs SET customer_subject = (SELECT c.owner_subject FROM connections c WHERE c.id = installs.connection)",
    "CREATE INDEX installs_customer ON installs (customer_subject, created_at, id) WHERE customer_subject IS NOT NULL",
    "ALTER TABLE events ADD COLUMN connection INTEGER NULL REFERENCES connections (id)",
    "CREATE INDEX events_connection ON events (connection, id) WHERE connection IS NOT NULL",
    "ALTER TABLE assets ADD COLUMN label_key_id VARCHAR(8) NULL",
    "ALTER TABLE assets ADD COLUMN label_issued_at TIMESTAMPTZ NULL",
    "ALTER TABLE assets ADD COLUMN retired_at TIMESTAMPTZ NULL",
    "ALTER TABLE assets ADD COLUMN replaced_by INTEGER NULL REFERENCES assets (id)",
    "CREATE INDEX assets_type ON assets (asset_type, serial)",
    "CREATE INDEX assets_status ON assets (status, serial)",
    "CREATE INDEX assets_label_key ON assets (label_key_id, serial) WHERE label_key_id IS NOT NULL",
    "CREATE INDEX assets_connection ON assets (connection, installed_at) WHERE connection IS NOT NULL",
    "CREATE INDEX connections_postcode_ean ON connections (postcode, ean)",
    "DROP INDEX IF EXISTS connections_postcode",  # its prefix: the planner took it and sorted
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="installs", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
