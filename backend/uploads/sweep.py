"""The upload sweep: uploads past their expiry, and parts no row refers to, removed.

Every worker sweeps (and so may `selfinstall sweep-files`), at the same time: a row is deleted by one
statement (one sweeper gets it; an append still running then fails its compare-and-set and removes
its own part), and a part is removed only once it is older than the grace and no part row names it,
and a part's row is written after its file is durable, within the request that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.installs.context import InstallContext
from backend.storage.base import batches
from backend.uploads import repository as repo


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


async def upload_round(ctx: InstallContext, grace_s: float) -> str | None:
    """One round of the lifespan's loop (backend/periodic.py): what it removed, if anything."""
    report = await sweep_uploads(ctx, grace_s)
    return f"{report.expired} expired uploads, {report.parts} parts removed" if report.expired or report.parts else None
