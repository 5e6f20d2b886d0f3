"""The upload sweep: uploads past their expiry, and parts no row refers to, removed.

Every worker sweeps (and so may `selfinstall sweep-files`), at the same time: a row is deleted by one
statement (one sweeper gets it; an append still running then fails its compare-and-set and removes
its own part), and a part is removed only once it is older than the grace and no part row names it,
and a part's row is written after its file is durable, within the request that wrote it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from backend.installs.context import InstallContext
from backend.storage.base import batches
from backend.uploads import repository as repo

log = logging.getLogger("selfinstall")


@dataclass(frozen=True, slots=True)
class UploadSweep:
    expired: int  # uploads past their expiry
    parts: int  # part files no row refers to (of those uploads, or of a request a crash interrupted)


async def sweep_uploads(ctx: InstallContext, grace_s: float) -> UploadSweep:
    """Delete expired uploads, then remove parts older than `grace_s` that no part row names."""
    now = ctx.clock()
    expired = await repo.delete_expired(now)
    cutoff = now.timestamp() - grace_s
    stale = [p.name async for p in ctx.store.parts() if p.modified.timestamp() < cutoff]
    removed = 0
    for batch in batches(stale):
        kept = await repo.part_names_kept(batch)
        for name in batch:
            if name not in kept:
                await ctx.store.remove_part(name)
                removed += 1
    return UploadSweep(expired, removed)


async def run_forever(ctx: InstallContext, interval_s: float, grace_s: float) -> None:
    """The sweep loop started by the app's lifespan (every worker: the sweep is safe to overlap)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await sweep_uploads(ctx, grace_s)
            if report.expired or report.parts:
                log.info("upload sweep removed %d expired uploads, %d parts", report.expired, report.parts)
        except Exception:  # a database hiccup must not stop the sweeps for good
            log.exception("upload sweep failed")
