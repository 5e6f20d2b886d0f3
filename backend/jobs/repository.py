"""Every query of the jobs domain. Callers own the transaction; nothing here commits on its own."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from backend.installs.tables import Asset, Connection
from backend.jobs.enums import LIVE, LIVE_VISIT, MAX_WINDOW, OPEN, Assignee, JobState, VisitState
from backend.jobs.tables import Job, Visit


class JobRec(msgspec.Struct, frozen=True, kw_only=True):
    """A job with what its views need of its connection and allocated asset (one query, joined)."""

    id: int
    connection: int
    ean: str
    street: str
    house_number: int
    house_number_suffix: str
    postcode: str
    city: str
    capacity: str
    asset_type: str
    asset: int | None
    serial: str | None  # of the allocated asset
    window_start: datetime
    window_end: datetime
    assignee: str | None
    installer_subject: str | None
    state: str
    install: uuid.UUID | None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


_ADDRESS = ("ean", "street", "house_number", "house_number_suffix", "postcode", "city", "capacity")
_JOINED = (*(getattr(Job.connection, name).as_alias(name) for name in _ADDRESS), Job.asset.serial.as_alias("serial"))


def _select() -> Select:
    return Job.select(*Job.all_columns(), *_JOINED)


def _many(rows: list[dict[str, Any]]) -> list[JobRec]:
    return [msgspec.convert(r, JobRec, strict=False) for r in rows]


async def job_by_id(job_id: int) -> JobRec | None:
    rows = _many(await _select().where(Job.id == job_id))
    return rows[0] if rows else None


async def jobs_by_ids(job_ids: list[int]) -> list[JobRec]:
    """In the order of `job_ids`."""
    if not job_ids:
        return []
    by_id = {j.id: j for j in _many(await _select().where(Job.id.is_in(job_ids)))}
    return [by_id[i] for i in job_ids]


async def job_by_install(install_id: uuid.UUID) -> JobRec | None:
    """The job an install was started from (index jobs_install)."""
    rows = _many(await _select().where(Job.install == install_id))
    return rows[0] if rows else None


async def self_install_job(connection_id: int, asset_type: str) -> JobRec | None:
    """The customer's own assigned job at a connection for this type, the oldest if several (index
    jobs_self_install)."""
    where = (
        (Job.connection == connection_id)
        & (Job.asset_type == asset_type)
        & (Job.assignee == Assignee.CUSTOMER.value)
        & (Job.state == JobState.ASSIGNED.value)
    )
    rows = _many(await _select().where(where).order_by(Job.id).limit(1))
    return rows[0] if rows else None


async def insert_job(row: dict[str, Any]) -> int:
    inserted = await Job.insert(Job(**row)).returning(Job.id)
    return int(inserted[0]["id"])


async def update_job(job_id: int, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on `version`; False if someone else changed the job meanwhile."""
    columns = {getattr(Job, k): v for k, v in values.items()}
    columns[Job.version] = expected_version + 1
    rows = await Job.update(columns).where((Job.id == job_id) & (Job.version == expected_version)).returning(Job.id)
    return bool(rows)


async def connections_by_eans(eans: Collection[str]) -> dict[str, dict[str, Any]]:
    """The connections with these EANs (id and capacity), by EAN."""
    if not eans:
        return {}
    rows = await Connection.select(Connection.id, Connection.ean, Connection.capacity).where(
        Connection.ean.is_in(list(eans))
    )
    return {r["ean"]: r for r in rows}


async def lock_assets(asset_ids: Collection[int]) -> None:
    """Hold these assets' rows until the transaction ends, so two dispatchers allocating the same asset
    at once are serialised (PostgreSQL; SQLite's IMMEDIATE transaction already holds the database)."""
    if asset_ids and Asset._meta.db.engine_type == "postgres":
        await Asset.select(Asset.id).where(Asset.id.is_in(list(asset_ids))).lock_rows("update")


async def allocations(asset_ids: Collection[int]) -> dict[int, int]:
    """Which of these assets a live job holds: asset id -> job id (index jobs_allocation)."""
    if not asset_ids:
        return {}
    live = [s.value for s in LIVE]
    rows = await Job.select(Job.id, Job.asset).where(Job.asset.is_in(list(asset_ids)) & Job.state.is_in(live))
    return {r["asset"]: r["id"] for r in rows}


async def jobs_page(
    limit: int, after: tuple[datetime, int] | None, state: str | None, installer: str | None
) -> list[JobRec]:
    return _many(await jobs_query(limit, after, state, installer))


def jobs_query(limit: int, after: tuple[datetime, int] | None, state: str | None, installer: str | None) -> Select:
    """The dispatcher's list by window start, then id (the plan tests EXPLAIN it): jobs_window, or
    jobs_state_window with a state, or jobs_installer for one installer; keyset as one row comparison."""
    where = Job.id.is_not_null()
    if installer is not None:
        where &= Job.installer_subject == installer
    if state is not None:
        where &= Job.state == state
    return _page(where, after, limit)


async def installer_jobs(subject: str, today: datetime, limit: int, after: tuple[datetime, int] | None) -> list[JobRec]:
    return _many(await installer_jobs_query(subject, today, limit, after))


def installer_jobs_query(subject: str, today: datetime, limit: int, after: tuple[datetime, int] | None) -> Select:
    """An installer's open jobs whose window ends after `today` began, by window start (the plan tests
    EXPLAIN it): one range of jobs_installer, from `today` less the longest window on."""
    where = (
        (Job.installer_subject == subject)
        & Job.state.is_in([s.value for s in OPEN])
        & (Job.window_start >= today - MAX_WINDOW)
        & (Job.window_end > today)
    )
    return _page(where, after, limit)


def _page(where: Any, after: tuple[datetime, int] | None, limit: int) -> Select:
    if after is not None:
        where &= WhereRaw('("jobs"."window_start", "jobs"."id") > ({}, {})', *after)
    return _select().where(where).order_by(Job.window_start, Job.id).limit(limit)


# --- visits --------------------------------------------------------------------------------------


class WindowRec(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime


class VisitRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    install: uuid.UUID
    case_id: int | None
    state: str
    windows: list[WindowRec]
    window_start: datetime | None
    window_end: datetime | None
    installer_subject: str | None
    brief: dict[str, Any]
    job: int | None
    offered_by: str
    version: int
    created_at: datetime
    updated_at: datetime


def _visits(rows: list[dict[str, Any]]) -> list[VisitRec]:
    out = []
    for row in rows:
        for column in ("windows", "brief"):  # UPDATE ... RETURNING hands JSON back as text
            if isinstance(row[column], str):
                row = {**row, column: msgspec.json.decode(row[column])}
        out.append(msgspec.convert(row, VisitRec, strict=False))
    return out


async def latest_visit(install_id: uuid.UUID) -> VisitRec | None:
    """The install's newest visit (index visits_install)."""
    rows = await Visit.select().where(Visit.install == install_id).order_by(Visit.id, ascending=False).limit(1)
    return next(iter(_visits(rows)), None)


async def live_visit(install_id: uuid.UUID) -> VisitRec | None:
    """The install's offered or planned visit (UNIQUE visits_live)."""
    where = (Visit.install == install_id) & Visit.state.is_in([s.value for s in LIVE_VISIT])
    return next(iter(_visits(await Visit.select().where(where))), None)


async def offered_visits(after_id: int, limit: int) -> list[VisitRec]:
    """Visits still waiting for the customer's pick, by id (the partial index visits_live holds them)."""
    where = (Visit.state == VisitState.OFFERED.value) & (Visit.id > after_id)
    return _visits(await Visit.select().where(where).order_by(Visit.id).limit(limit))


async def visit_by_job(job_id: int) -> VisitRec | None:
    return next(iter(_visits(await Visit.select().where(Visit.job == job_id))), None)


async def visits_by_jobs(job_ids: list[int]) -> dict[int, VisitRec]:
    """The visits these jobs were made for, by job id (index visits_job)."""
    if not job_ids:
        return {}
    return {v.job: v for v in _visits(await Visit.select().where(Visit.job.is_in(job_ids))) if v.job is not None}


async def insert_visit(row: dict[str, Any]) -> VisitRec:
    """The caller checked that the install has no live visit; UNIQUE visits_live holds it whatever races."""
    inserted = await Visit.insert(Visit(**row)).returning(*Visit.all_columns())
    return _visits(inserted)[0]


async def update_visit(visit_id: int, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on `version`; False if someone else changed the visit meanwhile."""
    columns = {getattr(Visit, k): v for k, v in values.items()}
    columns[Visit.version] = expected_version + 1
    where = (Visit.id == visit_id) & (Visit.version == expected_version)
    return bool(await Visit.update(columns).where(where).returning(Visit.id))
