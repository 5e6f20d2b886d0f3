"""The orphan sweep: upload files a crash or a refusal left behind, removed once past a grace.

A `kill -9` mid-upload leaves `photos/incoming/*.part`; one between making the file durable and
committing its row leaves an original no row refers to, which still carries the photo's EXIF GPS.
The grace (`ORPHAN_GRACE_S`) keeps an upload in progress safe: its file is newer. Every worker
sweeps, and so may `selfinstall sweep-files`, at the same time: see `LocalPhotoStore.sweep`.
"""

from __future__ import annotations

from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.storage import SweepReport


async def sweep_files(ctx: InstallContext, grace_s: float) -> SweepReport:
    """Remove what is older than `grace_s` by the context's clock and not referred to by a row."""
    return await ctx.store.sweep(repo.sha256s_stored, ctx.clock().timestamp() - grace_s)


async def file_round(ctx: InstallContext, grace_s: float) -> str | None:
    """One round of the lifespan's loop (backend/periodic.py): what it removed, if anything."""
    report = await sweep_files(ctx, grace_s)
    if report.partials or report.orphans:
        return f"{report.partials} partial uploads, {report.orphans} orphaned photos removed"
    return None
