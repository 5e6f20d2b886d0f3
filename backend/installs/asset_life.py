"""An asset after the warehouse: retired (scrapped, lost, removed) or swapped for another on its connection.

The status only moves forward: in_stock -> installed (an approved install, or a swap) -> retired, or
in_stock -> retired. A retired asset keeps its connection and its install time, so a connection's
assets over time stay readable (`connection_admin.connection_detail`); a swapped one also names the
asset that replaced it. Every change is a compare-and-set on the status, audited on the connection."""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.installs import repository as repo
from backend.installs.connections import refuse_while_open
from backend.installs.context import InstallContext
from backend.installs.enums import AssetStatus
from backend.installs.records import AssetRec
from backend.installs.service import record_change, transaction
from backend.principal import Principal, Role
from backend.words import ASSET_STATUS_WORDS, stated


def _require_admin(who: Principal) -> None:
    if who.role is not Role.ADMIN:
        raise Forbidden("auth/forbidden")


async def _asset(serial: str) -> AssetRec:
    asset = await repo.asset_by_serial(serial)
    if asset is None:
        raise NotFound("assets/not-found", serial=serial)
    return asset


async def _refuse_in_use(ctx: InstallContext, asset: AssetRec) -> None:
    """409 while an undecided install has scanned it or a live job holds it (the holds other domains register)."""
    if await repo.asset_in_open_install(asset.id) or any([await held(asset.id) for held in ctx.asset_holds]):
        raise Conflict("asset/in-use", serial=asset.serial)


async def _move(asset: AssetRec, values: dict[str, object]) -> None:
    if not await repo.set_asset_status(asset.id, asset.status, values):  # moved meanwhile
        raise Conflict("asset/state-conflict", serial=asset.serial, state=stated(ASSET_STATUS_WORDS, asset.status))


async def retire_asset(ctx: InstallContext, who: Principal, serial: str, reason: str) -> AssetRec:
    """Take an asset out of use for good (from stock, or off its connection without a successor)."""
    _require_admin(who)
    async with transaction():
        asset = await _asset(serial)
        if asset.status == AssetStatus.RETIRED:
            raise Conflict("asset/state-conflict", serial=serial, state=stated(ASSET_STATUS_WORDS, asset.status))
        await _refuse_in_use(ctx, asset)
        now = ctx.clock()
        await _move(asset, {"status": AssetStatus.RETIRED.value, "retired_at": now})
        ean = None if asset.connection is None else (await repo.eans_of([asset.connection])).get(asset.connection)
        facts = {"serial": serial, "asset_type": asset.asset_type, "from_status": asset.status, "ean": ean}
        await record_change(ctx, who, "asset.retired", now, asset.connection, facts, reason)
    retired = await repo.asset_by_id(asset.id)
    assert retired is not None
    return retired


@dataclass(frozen=True, slots=True)
class Swap:
    retired: AssetRec
    installed: AssetRec


async def swap_asset(
    ctx: InstallContext, who: Principal, serial: str, new_serial: str, reading: float | None, reason: str
) -> Swap:
    """Replace the installed asset `serial` on its connection by `new_serial` (in stock, fitting the
    connection's capacity): the old one retired, naming its successor; the new one installed there."""
    _require_admin(who)
    async with transaction():
        old, new = await _asset(serial), await _asset(new_serial)
        if old.status != AssetStatus.INSTALLED or old.connection is None:
            raise Conflict("asset/state-conflict", serial=serial, state=stated(ASSET_STATUS_WORDS, old.status))
        if new.status != AssetStatus.IN_STOCK:
            raise Conflict("asset/state-conflict", serial=new_serial, state=stated(ASSET_STATUS_WORDS, new.status))
        connection = await repo.connection_by_id(old.connection)
        assert connection is not None  # a foreign key
        spec = ctx.catalog.types.get(new.asset_type)
        if spec is None or connection.capacity not in spec.capacities:
            kind = ctx.catalog.type_words(new.asset_type)
            raise Invalid("install/capacity-mismatch", asset_type=kind, capacity=connection.capacity)
        await refuse_while_open(connection, occupants_only=False)  # it would be judged against the wrong meter
        await _refuse_in_use(ctx, new)
        now = ctx.clock()
        await _move(old, {"status": AssetStatus.RETIRED.value, "retired_at": now, "replaced_by": new.id})
        placed: dict[str, object] = {"status": AssetStatus.INSTALLED.value, "connection": connection.id}
        await _move(new, {**placed, "installed_at": now, "last_reading": reading})
        facts = {
            "ean": connection.ean,
            "serial": serial,
            "asset_type": old.asset_type,
            "new_serial": new_serial,
            "new_asset_type": new.asset_type,
            "reading": reading,  # the new one's, kWh
        }
        await record_change(ctx, who, "asset.swapped", now, connection.id, facts, reason)
    retired, installed = await repo.asset_by_id(old.id), await repo.asset_by_id(new.id)
    assert retired is not None and installed is not None
    return Swap(retired=retired, installed=installed)
