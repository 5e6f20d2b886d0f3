"""The orphan sweep: upload files a crash or a refusal left behind, removed once past a grace.

A `kill -9` mid-upload leaves `photos/incoming/*.part`; one between making the file durable and
committing its row leaves an original no row refers to, which still carries the photo's EXIF GPS.
The grace (`ORPHAN_GRACE_S`) keeps an upload in progress safe: its file is newer. Every worker
sweeps, and so may `selfinstall sweep-files`, at the same time: see `LocalPhotoStore.sweep`.
"""

from __future__ import annotations

import asyncio
import logging

from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.storage import SweepReport

log = logging.getLogger("selfinstall")


async def sweep_files(ctx: InstallContext, grace_s: float) -> SweepReport:
    """Remove what is older than `grace_s` by the context's clock and not referred to by a row."""
    return await ctx.store.sweep(repo.sha256s_stored, ctx.clock().timestamp() - grace_s)


async def run_forever(ctx: InstallContext, interval_s: float, grace_s: float) -> None:
    """The sweep loop started by the app's lifespan (every worker: the sweep is safe to overlap)."""
    while True:
        await asyncio.sleep(interval_s)  # first round after one interval: a restart loop sweeps nothing twice
        try:
            report = await sweep_files(ctx, grace_s)
            if report.partials or report.orphans:
                log.info("file sweep removed %d partial uploads, %d orphaned photos", report.partials, report.orphans)
        except Exception:  # a database hiccup must not stop the sweeps for good
            log.exception("file sweep failed")
