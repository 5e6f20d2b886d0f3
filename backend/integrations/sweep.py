"""Approved installs whose device never reported: a `device_silent` follow-up case each.

Safe on many workers at once: a follow-up is unique per (install, kind), so of two sweepers
opening the same case one inserts it and the other gets nothing back; and an install that ever
had that case is skipped, so a case a specialist closed is not reopened by the next round.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from backend.installs.context import InstallContext
from backend.installs.service import record_event, transaction
from backend.integrations import repository as repo
from backend.integrations.service import REPORTING_TYPES
from backend.principal import Principal, Role
from backend.review.followups import open_followup
from backend.validation.results import Reason

BATCH = 200
SWEEPER = Principal(subject="device-sweep", role=Role.SYSTEM)
SILENT = "device_silent"


async def sweep_silent_devices(ctx: InstallContext, now: datetime) -> int:
    """Open a follow-up for every approved install silent for `silent_after_days`; returns how many."""
    days = ctx.policy.device.silent_after_days
    cutoff = now - timedelta(days=days)
    opened = 0
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        batch = await repo.unconfirmed_approved(cutoff, REPORTING_TYPES, after, BATCH)
        if not batch:
            return opened
        last = batch[-1][0]
        assert last.decided_at is not None  # approved installs have a decision time
        after = (last.decided_at, last.id)
        reported = await repo.serials_that_reported([serial for _, serial in batch])
        followed = await repo.installs_with_case([install.id for install, _ in batch], SILENT)
        for install, serial in batch:
            if serial in reported or install.id in followed:
                continue  # it reported (a mismatch is its own case), or it has had this case already
            detail = {
                "serial": serial,
                "approved_at": install.decided_at.isoformat() if install.decided_at else None,
                "silent_after_days": days,
            }
            async with transaction():  # one short write per case: SQLite has one writer at a time
                case = await open_followup(install, SILENT, [Reason.UNCERTAIN.value], now, detail)
                if case is not None:
                    await record_event(SWEEPER, "device.silent", now, install, case_id=case.id, **detail)
                    opened += 1
        if len(batch) < BATCH:
            return opened


async def device_round(ctx: InstallContext) -> str | None:
    """One round of the lifespan's loop (backend/periodic.py): what it opened, if anything."""
    opened = await sweep_silent_devices(ctx, ctx.clock())
    return f"{opened} device_silent cases opened" if opened else None
