"""Warehouse batches of assets: all rows valid or none stored; re-importing a serial changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import msgspec

from backend.batches import csv_items
from backend.bounds import LINE, WireRequest
from backend.errors import Conflict, Forbidden, Invalid, NotFound, RowError
from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.enums import AssetStatus
from backend.installs.records import AssetRec
from backend.installs.service import record_event, transaction
from backend.principal import Principal, Role

MAX_BATCH = 50_000
_INSERT_CHUNK = 500
ASSET_COLUMNS = ("serial", "asset_type")  # a CSV batch's header
INVALID_BATCH = "assets/invalid-batch"


class AssetIn(WireRequest, kw_only=False):
    """One asset of a batch, as a JSON item or a CSV line."""

    serial: Annotated[str, msgspec.Meta(max_length=40, pattern=LINE, examples=["MTR1-900001"])]
    asset_type: Annotated[str, msgspec.Meta(max_length=40, pattern=LINE, examples=["smart_meter_1p"])]


@dataclass(frozen=True, slots=True)
class AssetRow:
    line: int  # 1-based line (CSV: including the header) or list position
    serial: str
    asset_type: str


@dataclass(frozen=True, slots=True)
class ImportedAsset:
    serial: str
    asset_type: str
    status: str
    payload: str
    created: bool


def asset_rows(items: list[tuple[int, AssetIn]]) -> list[AssetRow]:
    """A read batch's items as rows (backend/batches.py: JSON or CSV, each line checked)."""
    return [AssetRow(line=line, serial=item.serial, asset_type=item.asset_type) for line, item in items]


def parse_csv(text: str) -> list[AssetRow]:
    """Rows of a `serial,asset_type` CSV with a header line; line numbers count the header as 1."""
    return asset_rows(csv_items(text, AssetIn, ASSET_COLUMNS, INVALID_BATCH))


def _row_errors(ctx: InstallContext, row: AssetRow, seen: dict[str, int]) -> list[RowError]:
    errors = []
    if not qr.SERIAL_PATTERN.fullmatch(row.serial):
        errors.append(RowError(row.line, "serial-form", "serial", {"serial": row.serial}))
    if row.asset_type not in ctx.catalog.types:
        errors.append(RowError(row.line, "unknown-asset-type", "asset_type", {"asset_type": row.asset_type}))
    if row.serial in seen:
        errors.append(
            RowError(row.line, "repeated-serial", "serial", {"serial": row.serial, "first": seen[row.serial]})
        )
    return errors


async def import_assets(
    ctx: InstallContext, who: Principal, rows: list[AssetRow], on_progress: Callable[[int], None] | None = None
) -> list[ImportedAsset]:
    """Validate the whole batch, then store the new serials in one transaction."""
    errors: list[RowError] = []
    if len(rows) > MAX_BATCH:
        errors.append(
            RowError(rows[MAX_BATCH].line, "batch-too-large", params={"limit": MAX_BATCH, "count": len(rows)})
        )
    seen: dict[str, int] = {}
    for row in rows:
        errors.extend(_row_errors(ctx, row, seen))
        seen.setdefault(row.serial, row.line)
    async with transaction():
        # Only well-formed serials reach the query (a NUL cannot even be sent to PostgreSQL).
        wellformed = [r.serial for r in rows if qr.SERIAL_PATTERN.fullmatch(r.serial)]
        existing = {a.serial: a for a in await repo.assets_by_serials(wellformed)}
        for row in rows:
            known = existing.get(row.serial)
            if known is not None and known.asset_type != row.asset_type:
                known_as = {"serial": row.serial, "known": known.asset_type}
                errors.append(RowError(row.line, "known-as-other-type", "asset_type", known_as))
        if errors:
            raise Invalid(INVALID_BATCH, rows=errors)
        now = ctx.clock()
        new = [r for r in rows if r.serial not in existing]
        for start in range(0, len(new), _INSERT_CHUNK):
            chunk = new[start : start + _INSERT_CHUNK]
            await repo.insert_assets(
                [
                    {
                        "serial": r.serial,
                        "asset_type": r.asset_type,
                        "status": AssetStatus.IN_STOCK.value,
                        "created_at": now,
                    }
                    for r in chunk
                ]
            )
            if on_progress:
                on_progress(len(chunk))
        if new:
            await record_event(who, "assets.imported", now, count=len(new))
        # Every row's label is issued (again) with the active key: what a key's reprint list reads.
        kid = ctx.settings.qr_active_key
        for start in range(0, len(rows), _INSERT_CHUNK):
            await repo.record_label_key([r.serial for r in rows[start : start + _INSERT_CHUNK]], kid, now)
    keys = ctx.settings.qr_keys
    return [
        ImportedAsset(
            serial=r.serial,
            asset_type=r.asset_type,
            status=existing[r.serial].status if r.serial in existing else AssetStatus.IN_STOCK.value,
            payload=qr.sign(r.serial, keys, kid),
            created=r.serial not in existing,
        )
        for r in rows
    ]


async def label_payload(ctx: InstallContext, serial: str) -> str:
    """The signed payload of a known asset's issued label, to print it again; reading writes nothing. Signed
    with the key recorded for it, while that key is configured: else 409 `assets/label-not-issued` (issue
    one: `issue_label`), so no label is printed that the asset's label key does not account for."""
    asset = await repo.asset_by_serial(serial)
    if asset is None:
        raise NotFound("assets/not-found", serial=serial)
    if asset.label_key_id is None or asset.label_key_id not in ctx.settings.qr_keys:
        raise Conflict("assets/label-not-issued", serial=serial)
    return qr.sign(serial, ctx.settings.qr_keys, asset.label_key_id)


async def issue_label(ctx: InstallContext, who: Principal, serial: str) -> str:
    """A known asset's label issued anew (an explicit POST): signed with the active key, which is recorded
    as the asset's label key (a reprint moves the asset off a retiring key's list); audited."""
    asset = await repo.asset_by_serial(serial)
    if asset is None:
        raise NotFound("assets/not-found", serial=serial)
    kid, now = ctx.settings.qr_active_key, ctx.clock()
    async with transaction():
        await repo.record_label_key([serial], kid, now)
        await record_event(who, "asset.label-issued", now, connection=asset.connection, serial=serial, key_id=kid)
    return qr.sign(serial, ctx.settings.qr_keys, kid)


async def label_sheet(ctx: InstallContext, who: Principal, serials: list[str]) -> list[qr.SheetLabel]:
    """A printed sheet's labels, in the order given (at most qr.SHEET_SIZE, each once): each a known asset,
    signed with the active key and recorded as its label key, as `label_payload` does for one."""
    if who.role is not Role.ADMIN:
        raise Forbidden("auth/forbidden")
    serials = list(dict.fromkeys(serials))[: qr.SHEET_SIZE]
    found = {a.serial: a for a in await repo.assets_by_serials(serials)}
    for serial in serials:
        if serial not in found:
            raise NotFound("assets/not-found", serial=serial)
    kid = ctx.settings.qr_active_key
    async with transaction():
        await repo.record_label_key(serials, kid, ctx.clock())
    types = ctx.catalog.types
    return [
        qr.SheetLabel(qr.sign(s, ctx.settings.qr_keys, kid), s, types[found[s].asset_type].label_nl) for s in serials
    ]


@dataclass(frozen=True, slots=True)
class AssetSearch:
    """What an admin searches assets by; every field narrows (AND)."""

    serial: str | None = None
    asset_type: str | None = None
    status: AssetStatus | None = None
    key_id: str | None = None  # the QR key its last issued label was signed with


@dataclass(frozen=True, slots=True)
class AssetEntry:
    """An asset as an admin reads it: where it is (or was) installed and what replaced it, by name."""

    asset: AssetRec
    ean: str | None
    replaced_by: str | None  # the successor's serial


async def asset_entries(assets: list[AssetRec]) -> list[AssetEntry]:
    """The assets with their connections' EANs and successors' serials (two queries, whatever the count)."""
    eans = await repo.eans_of({a.connection for a in assets if a.connection is not None})
    successors = await repo.serials_of({a.replaced_by for a in assets if a.replaced_by is not None})
    return [
        AssetEntry(
            asset=a,
            ean=None if a.connection is None else eans.get(a.connection),
            replaced_by=None if a.replaced_by is None else successors.get(a.replaced_by),
        )
        for a in assets
    ]


async def search_assets(who: Principal, search: AssetSearch, limit: int, after_serial: str | None) -> list[AssetEntry]:
    """Assets matching the search, by serial (keyset on the serial)."""
    if who.role is not Role.ADMIN:
        raise Forbidden("auth/forbidden")
    found = await repo.search_assets(
        limit,
        after_serial,
        serial=search.serial,
        asset_type=search.asset_type,
        status=None if search.status is None else search.status.value,
        key_id=search.key_id,
    )
    return await asset_entries(found)


@dataclass(frozen=True, slots=True)
class LabelKey:
    key_id: str
    labels: int  # assets whose last issued label it signed
    configured: bool  # still in QR_KEYS: its labels verify
    active: bool  # the key new labels are signed with


async def label_keys(ctx: InstallContext, who: Principal) -> list[LabelKey]:
    """Every key that signed a label or is configured, with how many assets' labels it signed: a key
    may be retired from QR_KEYS once its count is 0 (each of its labels reprinted with the active key)."""
    if who.role is not Role.ADMIN:
        raise Forbidden("auth/forbidden")
    counts = await repo.label_key_counts()
    configured = ctx.settings.qr_keys
    return [
        LabelKey(kid, counts.get(kid, 0), kid in configured, kid == ctx.settings.qr_active_key)
        for kid in sorted(set(counts) | set(configured))
    ]
