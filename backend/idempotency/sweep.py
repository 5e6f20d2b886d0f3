"""The sweep of expired keys, for the app's lifespan. Every worker sweeps: a DELETE of expired rows is
safe to overlap (a row another worker deleted is simply not there), and each round deletes in batches,
so no statement holds many rows."""

from __future__ import annotations

from datetime import datetime

from backend.idempotency import repository as repo

SWEEP_INTERVAL_S = 600.0
BATCH = 1000


async def sweep_keys(now: datetime) -> int:
    """Delete every key expired at `now`; how many."""
    deleted = 0
    while (n := await repo.delete_expired(now, BATCH)) == BATCH:
        deleted += n
    return deleted + n


async def key_round(now: datetime) -> str | None:
    """One round of the lifespan's loop (backend/periodic.py): what it removed, if anything."""
    deleted = await sweep_keys(now)
    return f"{deleted} expired keys removed" if deleted else None
