"""Every query of the integrations domain. Callers own the transaction.

Matching a device to an install reads the install domain's tables (by asset, by connection) and
the silent sweep reads which installs already have a follow-up case: read-only joins across
domains, kept here so the services stay free of queries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from backend.installs.records import InstallRec
from backend.installs.tables import Install
from backend.integrations.tables import DeviceReport
from backend.review.tables import ReviewCase


class ReportRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    report_id: str
    device_serial: str
    ean: str
    reported_at: datetime
    source: str
    import_kwh: float | None
    export_kwh: float | None
    received_at: datetime
    reported_by: str
    request_hash: str
    outcomes: list[str]
    outcome_tags: str
    install: uuid.UUID | None
    flagged_installs: list[str]
    reading_difference_kwh: float | None


def _report(rows: list[dict[str, Any]]) -> ReportRec | None:
    return msgspec.convert(rows[0], ReportRec, strict=False) if rows else None


def _installs(rows: list[dict[str, Any]]) -> list[InstallRec]:
    return [msgspec.convert(r, InstallRec, strict=False) for r in rows]


# --- reports -----------------------------------------------------------------------------------


async def report_by_id(report_id: str) -> ReportRec | None:
    return _report(await DeviceReport.select().where(DeviceReport.report_id == report_id).output(load_json=True))


async def insert_report(row: dict[str, Any]) -> bool:
    """Claim the report id; False if it exists. On PostgreSQL a concurrent insert of the same id
    waits on the unique index until the first commits, then inserts nothing."""
    rows = (
        await DeviceReport.insert(DeviceReport(**row))
        .on_conflict(target=DeviceReport.report_id, action="DO NOTHING")
        .returning(DeviceReport.id)
    )
    return bool(rows)


async def update_report(report_id: str, values: dict[str, Any]) -> None:
    columns = {getattr(DeviceReport, k): v for k, v in values.items()}
    await DeviceReport.update(columns).where(DeviceReport.report_id == report_id)


async def first_report_at(serial: str, ean: str) -> ReportRec | None:
    """The earliest report of `serial` at the connection `ean` (indexed on the serial)."""
    rows = (
        await DeviceReport.select()
        .where((DeviceReport.device_serial == serial) & (DeviceReport.ean == ean))
        .order_by(DeviceReport.reported_at)
        .limit(1)
        .output(load_json=True)
    )
    return _report(rows)


async def earlier_at(serial: str, ean: str, report_id: str, limit: int = 50) -> tuple[bool, set[str]]:
    """What the newest other reports of `serial` at `ean` did: (one was matched to its install,
    the installs they flagged). Periodic reports repeat the first; they need not act again."""
    rows = (
        await DeviceReport.select(DeviceReport.outcome_tags, DeviceReport.flagged_installs)
        .where(
            (DeviceReport.device_serial == serial) & (DeviceReport.ean == ean) & (DeviceReport.report_id != report_id)
        )
        .order_by(DeviceReport.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    matched = any(",noted," in r["outcome_tags"] or ",confirmed," in r["outcome_tags"] for r in rows)
    return matched, {i for r in rows for i in r["flagged_installs"]}


async def serials_that_reported(serials: list[str]) -> set[str]:
    if not serials:
        return set()
    rows = await DeviceReport.select(DeviceReport.device_serial).where(DeviceReport.device_serial.is_in(serials))
    return {r["device_serial"] for r in rows}


# --- installs, as devices see them ---------------------------------------------------------------


async def installs_of_asset(asset_id: int) -> list[InstallRec]:
    """The installs that scanned this asset and are neither withdrawn nor rejected, newest first
    (index installs_asset)."""
    rows = (
        await Install.select(*Install.all_columns())
        .where((Install.asset == asset_id) & Install.state.not_in(["cancelled", "rejected"]))
        .order_by(Install.created_at, ascending=False)
        .output(load_json=True)
    )
    return _installs(rows)


async def install_at_connection(connection_id: int, asset_types: frozenset[str]) -> InstallRec | None:
    """The newest install of one of `asset_types` at the connection that is not withdrawn or
    rejected (index installs_connection)."""
    rows = (
        await Install.select(*Install.all_columns())
        .where(
            (Install.connection == connection_id)
            & Install.asset_type.is_in(sorted(asset_types))
            & Install.state.not_in(["cancelled", "rejected"])
        )
        .order_by(Install.created_at, ascending=False)
        .limit(1)
        .output(load_json=True)
    )
    installs = _installs(rows)
    return installs[0] if installs else None


async def mark_confirmed(install_id: uuid.UUID, at: datetime) -> bool:
    """Set `confirmed_at` once: a compare-and-set on it being empty, so concurrent reports confirm
    exactly once. The install's `version` stays: a confirmation is a fact added to a final install,
    not an edit a client could conflict with."""
    rows = (
        await Install.update({Install.confirmed_at: at})
        .where((Install.id == install_id) & Install.confirmed_at.is_null())
        .returning(Install.id)
    )
    return bool(rows)


async def confirmed_at(install_id: uuid.UUID) -> datetime | None:
    rows = await Install.select(Install.confirmed_at).where(Install.id == install_id)
    return rows[0]["confirmed_at"] if rows else None


async def unconfirmed_approved(
    decided_before: datetime, asset_types: frozenset[str], after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[tuple[InstallRec, str]]:
    """Approved, unconfirmed installs of `asset_types` decided before the cutoff, with their
    asset's serial, oldest first; keyset on (decided_at, id) — the partial index
    installs_approved_unconfirmed holds exactly these rows."""
    where = (
        (Install.state == "approved")
        & Install.confirmed_at.is_null()
        & (Install.decided_at < decided_before)
        & Install.asset_type.is_in(sorted(asset_types))
        & Install.asset.is_not_null()
    )
    if after is not None:
        decided, last_id = after
        where &= (Install.decided_at > decided) | ((Install.decided_at == decided) & (Install.id > last_id))
    rows = (
        await Install.select(*Install.all_columns(), Install.asset.serial.as_alias("asset_serial"))
        .where(where)
        .order_by(Install.decided_at, Install.id)
        .limit(limit)
        .output(load_json=True)
    )
    return [(msgspec.convert(r, InstallRec, strict=False), r["asset_serial"]) for r in rows]


async def installs_with_case(install_ids: list[uuid.UUID], kind: str) -> set[uuid.UUID]:
    """Those of the installs that ever had a review case of `kind` (open or closed)."""
    if not install_ids:
        return set()
    rows = await ReviewCase.select(ReviewCase.install).where(
        ReviewCase.install.is_in(install_ids) & (ReviewCase.kind == kind)
    )
    return {r["install"] for r in rows}


# --- metrics -----------------------------------------------------------------------------------


async def outcome_counts() -> dict[str, int]:
    """Reports per outcome (a report with two outcomes counts for both), in one GROUP BY."""
    rows = await DeviceReport.select(DeviceReport.outcome_tags, Count(DeviceReport.id, alias="n")).group_by(
        DeviceReport.outcome_tags
    )
    counts: dict[str, int] = {}
    for r in rows:
        for tag in filter(None, r["outcome_tags"].split(",")):
            counts[tag] = counts.get(tag, 0) + r["n"]
    return counts


async def confirmed_installs() -> int:
    return await Install.count().where(Install.confirmed_at.is_not_null())


async def cases_of_kind(kind: str) -> dict[str, int]:
    """Review cases of one kind by state."""
    rows = (
        await ReviewCase.select(ReviewCase.state, Count(ReviewCase.id, alias="n"))
        .where(ReviewCase.kind == kind)
        .group_by(ReviewCase.state)
    )
    return {r["state"]: r["n"] for r in rows}
