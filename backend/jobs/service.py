"""Job use cases: dispatch (create, import, assign, cancel), the installer's list, an install from a job.

Each opens its transaction, moves the job through its state machine with a compare-and-set on its
version, and records every change in the audit log and the outbox, in the change's own transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.errors import Conflict, Invalid, NotFound, RowError
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.enums import AssetStatus
from backend.installs.records import AssetRec, InstallRec
from backend.installs.service import insert_draft, replayed, request_hash_of, transaction
from backend.installs.snapshot import InstallSnapshot
from backend.jobs import repository as repo
from backend.jobs.announce import announce
from backend.jobs.enums import DISPATCHABLE, TRANSITIONS, Assignee, JobState
from backend.jobs.planning import window_faults
from backend.jobs.repository import JobRec
from backend.jobs.visits import end_visit
from backend.local_time import OPERATOR_ZONE
from backend.principal import Principal
from backend.words import JOB_STATE_WORDS, stated

MAX_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class JobDraft:
    """A job to create, as one JSON item or CSV line (`line`, 1-based) of a dispatcher's request."""

    line: int
    ean: str
    asset_type: str
    window_start: datetime
    window_end: datetime
    installer: str | None = None
    self_install: bool = False
    serial: str | None = None


async def create_jobs(ctx: InstallContext, who: Principal, drafts: list[JobDraft], code: str) -> list[JobRec]:
    """Check every draft, then store them all in one transaction, or none: each fault by its line."""
    if len(drafts) > MAX_BATCH:  # refused before any query: its lookups would pass SQLite's bound parameters
        too_many = {"limit": MAX_BATCH, "count": len(drafts)}
        raise Invalid(code, rows=[RowError(drafts[MAX_BATCH].line, "batch-too-large", params=too_many)])
    errors: list[RowError] = []
    async with transaction():
        connections = await repo.connections_by_eans({d.ean for d in drafts})
        assets = {
            a.serial: a for a in await installs_repo.assets_by_serials(sorted({d.serial for d in drafts if d.serial}))
        }
        await repo.lock_assets([a.id for a in assets.values()])
        held = await repo.allocations([a.id for a in assets.values()])
        now = ctx.clock()
        seen: dict[str, int] = {}
        for draft in drafts:
            errors.extend(_faults(ctx, draft, connections, assets, held, seen, now))
        if errors:
            raise Invalid(code, rows=errors)
        ids = []
        for d in drafts:
            assignee = Assignee.INSTALLER if d.installer else Assignee.CUSTOMER if d.self_install else None
            state = JobState.PLANNED if assignee is None else JobState.ASSIGNED
            row = {
                "connection": connections[d.ean]["id"],
                "asset_type": d.asset_type,
                "asset": assets[d.serial].id if d.serial else None,
                "window_start": d.window_start,
                "window_end": d.window_end,
                "assignee": assignee,
                "installer_subject": d.installer,
                "state": state.value,
                "created_by": who.subject,
                "created_at": now,
                "updated_at": now,
            }
            job_id = await repo.insert_job(row)
            ids.append(job_id)
            await announce(
                ctx.settings.webhook_urls, who, "job.created", now, job_id, None, state, ean=d.ean, serial=d.serial
            )
    return await repo.jobs_by_ids(ids)


def _faults(
    ctx: InstallContext,
    d: JobDraft,
    connections: dict[str, dict[str, Any]],
    assets: dict[str, AssetRec],
    held: dict[int, int],
    seen: dict[str, int],
    now: datetime,
) -> list[RowError]:
    """What is wrong with one draft, each fault by its line and field."""
    faults: list[RowError] = []

    def fault(kind: str, field: str, **params: Any) -> None:
        faults.append(RowError(d.line, kind, field, params))

    spec = ctx.catalog.types.get(d.asset_type)
    connection = connections.get(d.ean)
    if connection is None:
        fault("unknown-ean", "ean", ean=d.ean)
    if spec is None:
        fault("unknown-asset-type", "asset_type", asset_type=d.asset_type)
    elif connection is not None and connection["capacity"] not in spec.capacities:
        fault("capacity", "asset_type", asset_type=d.asset_type, capacity=connection["capacity"])
    faults.extend(window_faults(d.line, d.window_start, d.window_end, now))
    if d.installer and d.self_install:
        fault("assignee", "installer")
    role = "installer" if d.installer else "customer" if d.self_install else None
    if spec is not None and role is not None and role not in spec.self_install:
        fault("role-not-allowed", "installer" if d.installer else "self_install", asset_type=d.asset_type, role=role)
    if d.serial:
        faults.extend(_allocation_faults(d, assets.get(d.serial), held, seen))
        seen.setdefault(d.serial, d.line)
    return faults


def _allocation_faults(
    d: JobDraft, asset: AssetRec | None, held: dict[int, int], seen: dict[str, int]
) -> list[RowError]:
    """An allocated asset must exist, be of the job's type, in stock and held by no other live job."""
    serial = d.serial
    if asset is None:
        return [RowError(d.line, "unknown-serial", "serial", {"serial": serial})]
    if asset.asset_type != d.asset_type:
        return [RowError(d.line, "serial-other-type", "serial", {"serial": serial, "known": asset.asset_type})]
    if asset.status != AssetStatus.IN_STOCK:
        return [RowError(d.line, "serial-not-in-stock", "serial", {"serial": serial, "status": asset.status})]
    if asset.id in held:
        return [RowError(d.line, "serial-allocated", "serial", {"serial": serial, "job": held[asset.id]})]
    if serial in seen:
        return [RowError(d.line, "repeated-serial", "serial", {"serial": serial, "first": seen[serial]})]
    return []


async def get_job(job_id: int) -> JobRec:
    """One job (dispatchers see every job), or 404."""
    job = await repo.job_by_id(job_id)
    if job is None:
        raise NotFound("job/not-found")
    return job


async def list_jobs(
    limit: int, after: tuple[datetime, int] | None, state: str | None, installer: str | None
) -> list[JobRec]:
    """Every job by window start, filtered; keyset-paginated."""
    return await repo.jobs_page(limit, after, state, installer)


async def assign_job(
    ctx: InstallContext, who: Principal, job_id: int, version: int, installer: str | None, self_install: bool
) -> JobRec:
    """Assign (or re-assign) a job that has not begun: to an installer, or to the customer themselves."""
    if bool(installer) == self_install:
        raise Invalid("job/assignee-invalid")
    async with transaction():
        job = await _dispatchable(job_id, version)
        role = "installer" if installer else "customer"
        if role not in ctx.catalog.types[job.asset_type].self_install:
            field, params = "installer" if installer else "self_install", {"asset_type": job.asset_type, "role": role}
            raise Invalid("jobs/invalid", rows=[RowError(1, "role-not-allowed", field, params)])
        now = ctx.clock()
        values = {
            "assignee": Assignee.INSTALLER if installer else Assignee.CUSTOMER,
            "installer_subject": installer,
            "state": JobState.ASSIGNED,
        }
        await _save(job, now, values)
        await announce(
            ctx.settings.webhook_urls,
            who,
            "job.assigned",
            now,
            job.id,
            job.state,
            JobState.ASSIGNED,
            installer=installer,
        )
    return await get_job(job_id)


async def cancel_job(ctx: InstallContext, who: Principal, job_id: int, version: int, reason: str) -> JobRec:
    """Cancel a job that has not begun; its allocated asset is free again."""
    async with transaction():
        job = await _dispatchable(job_id, version)
        now = ctx.clock()
        await _save(job, now, {"state": JobState.CANCELLED})
        await end_visit(job, JobState.CANCELLED, now)
        await announce(
            ctx.settings.webhook_urls, who, "job.cancelled", now, job.id, job.state, JobState.CANCELLED, reason=reason
        )
    return await get_job(job_id)


async def _dispatchable(job_id: int, version: int) -> JobRec:
    job = await get_job(job_id)
    if JobState(job.state) not in DISPATCHABLE:
        raise Conflict("job/state-conflict", state=stated(JOB_STATE_WORDS, job.state))
    if job.version != version:
        raise Conflict("job/stale-version", version=job.version)
    return job


async def _save(job: JobRec, at: datetime, values: dict[str, Any]) -> None:
    """The change through the state machine, compare-and-set on the version read."""
    if JobState(values["state"]) not in TRANSITIONS[JobState(job.state)]:
        raise Conflict("job/state-conflict", state=stated(JOB_STATE_WORDS, job.state))
    if not await repo.update_job(job.id, job.version, {**values, "updated_at": at}):
        raise Conflict("job/stale-version", version=job.version)


def today_began(now: datetime) -> datetime:
    """Midnight of `now`'s day where the work is done: "today" on an installer's list."""
    return now.astimezone(OPERATOR_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)


async def my_jobs(ctx: InstallContext, who: Principal, limit: int, after: tuple[datetime, int] | None) -> list[JobRec]:
    """An installer's open jobs from today on: today's first, then upcoming."""
    return await repo.installer_jobs(who.subject, today_began(ctx.clock()), limit, after)


async def start_install(
    ctx: InstallContext,
    who: Principal,
    job_id: int,
    install_id: uuid.UUID,
    started_at: datetime | None,
    client_time: datetime | None,
) -> tuple[InstallSnapshot, bool]:
    """The installer starts the install of their assigned job: it carries the job's connection, asset type
    and allocated asset, and the job is in progress from now on. The same id again is a retry."""
    async with transaction():
        job = await repo.job_by_id(job_id)
        if job is None or job.assignee != Assignee.INSTALLER or job.installer_subject != who.subject:
            raise NotFound("job/not-found")  # another's job is not even said to exist
        request_hash = request_hash_of(job.ean, job.asset_type, f"job {job.id}")
        existing = await installs_repo.install_by_id(install_id)
        if existing is not None:
            return await replayed(existing, who, request_hash), False
        if job.state != JobState.ASSIGNED:
            raise Conflict("job/state-conflict", state=stated(JOB_STATE_WORDS, job.state))
        # Locked: the install is the occupant's, so their release waits for it (or it sees them gone).
        connection = await installs_repo.connection_by_id(job.connection, for_update=True)
        assert connection is not None  # a foreign key
        snap, created = await insert_draft(
            ctx, who, install_id, connection, job.asset_type, request_hash, started_at, client_time, job.asset
        )
        if created:
            now = ctx.clock()
            await _save(job, now, {"state": JobState.IN_PROGRESS, "install": install_id})
            await announce(
                ctx.settings.webhook_urls,
                who,
                "job.started",
                now,
                job.id,
                job.state,
                JobState.IN_PROGRESS,
                install_id=str(install_id),
            )
        return snap, created


async def follow(
    urls: tuple[str, ...], who: Principal, job: JobRec, to_state: JobState, at: datetime, install: InstallRec
) -> None:
    """Move a job on with its install (backend/jobs/flows.py), in the install's transaction; a customer's own
    job is linked to the install that completes it."""
    values: dict[str, Any] = {"state": to_state}
    if job.install is None:
        values["install"] = install.id
    await _save(job, at, values)
    await end_visit(job, to_state, at)
    action = "job.done" if to_state is JobState.DONE else "job.cancelled"
    await announce(urls, who, action, at, job.id, job.state, to_state, install_id=str(install.id))
