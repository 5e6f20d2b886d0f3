"""An approved install places its asset at its connection in the registry: each asset at one connection,
and at a connection at most one asset of a kind it holds one of (catalog: rules.one_per_connection).

Every approval (the automation's at submit, a specialist's, a device report's) places through `place`,
in the approval's transaction: a compare-and-set on the facts the approval was decided on, so two
approvals racing for one asset, or two meters racing for one connection, never both succeed. The
connection's row is locked first where it holds one of a kind (PostgreSQL): the other approval there
waits, then finds the rival in place."""

from __future__ import annotations

from datetime import datetime

from backend.errors import Conflict
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.enums import AssetStatus
from backend.installs.records import AssetRec, InstallRec
from backend.words import ASSET_STATUS_WORDS, stated


async def place(ctx: InstallContext, install: InstallRec, asset_id: int, at: datetime) -> bool:
    """Set the install's asset installed at its connection; False (nothing written) when the asset is no
    longer free there or another asset of its kind went in there since it was judged. The asset is of
    the install's type (a scan of another type is refused)."""
    rivals = ctx.catalog.rivals(install.asset_type)
    if rivals:
        await repo.lock_connection(install.connection)
    return await repo.place_asset(asset_id, install.connection, rivals, at, install.reading)


async def refuse_unplaceable(ctx: InstallContext, install: InstallRec, asset_id: int) -> AssetRec:
    """409 in words, for the specialist about to approve, when the asset cannot be placed at the install's
    connection: what stands in the way, and what to do about it. The asset as it is when it can."""
    asset = await repo.asset_by_id(asset_id)
    assert asset is not None  # a foreign key
    if asset.status == AssetStatus.RETIRED:
        raise Conflict("asset/retired", serial=asset.serial)
    if asset.status == AssetStatus.INSTALLED and asset.connection != install.connection:
        raise Conflict("asset/installed-elsewhere", serial=asset.serial)
    rivals = await repo.rivals_installed(install.connection, ctx.catalog.rivals(install.asset_type), asset.id)
    if rivals:
        ean = (await repo.eans_of([install.connection]))[install.connection]
        raise Conflict("asset/connection-holds-one", ean=ean, serials=", ".join(r.serial for r in rivals))
    return asset


async def place_or_refuse(ctx: InstallContext, install: InstallRec, asset_id: int, at: datetime) -> None:
    """`place`, or the 409 in words that says why not (a specialist's approval)."""
    if not await place(ctx, install, asset_id, at):
        # Nothing in the way any more: the rival was retired between the two reads. The specialist tries again.
        asset = await refuse_unplaceable(ctx, install, asset_id)
        raise Conflict("asset/state-conflict", serial=asset.serial, state=stated(ASSET_STATUS_WORDS, asset.status))
