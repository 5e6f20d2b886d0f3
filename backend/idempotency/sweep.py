"""The sweep of expired keys, for the app's lifespan. Every worker sweeps: a DELETE of expired rows is
safe to overlap (a row another worker deleted is simply not there), and each round deletes in batches,
so no statement holds many rows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from backend.idempotency import repository as repo

log = logging.getLogger("selfinstall")

SWEEP_INTERVAL_S = 600.0
BATCH = 1000


async def sweep_keys(now: datetime) -> int:
    """Delete every key expired at `now`; how many."""
    deleted = 0
    while (n := await repo.delete_expired(now, BATCH)) == BATCH:
        deleted += n
    return deleted + n


async def run_forever(clock: Callable[[], datetime], interval_s: float = SWEEP_INTERVAL_S) -> None:
    """The sweep loop started by the app's lifespan."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            if deleted := await sweep_keys(clock()):
                log.info("idempotency sweep removed %d expired keys", deleted)
        except Exception:  # a database hiccup must not stop the sweeps for good
            log.exception("idempotency sweep failed")
