"""/admin/v1: retire and swap assets, and list the labels each QR key signed (to reprint them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK

from backend.auth import requires_role
from backend.bounds import LINE, PROSE, WireRequest
from backend.cursor import decode_cursor, encode_cursor
from backend.installs import asset_life, qr
from backend.installs.assets import AssetEntry, AssetSearch, asset_entries, label_keys, search_assets
from backend.installs.context import InstallContext
from backend.principal import Principal, Role

SerialPath = Annotated[str, Parameter(pattern=qr.SERIAL_PATTERN.pattern)]
SerialQuery = Annotated[str | None, Parameter(pattern=qr.SERIAL_PATTERN.pattern)]
KeyId = Annotated[str, Parameter(pattern=r"^[A-Z0-9]{1,8}$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=PROSE, examples=["Display defect"])]


class AdminAssetView(msgspec.Struct, kw_only=True):  # examples: documentation only
    serial: Annotated[str, msgspec.Meta(examples=["MTR1-000010"])]
    asset_type: Annotated[str, msgspec.Meta(examples=["smart_meter_1p"])]
    status: Annotated[str, msgspec.Meta(examples=["installed"])]
    ean: Annotated[str | None, msgspec.Meta(examples=["871687000000000054"])]  # where it is, or was, installed
    installed_at: datetime | None
    last_reading: Annotated[float | None, msgspec.Meta(examples=[4512.7])]
    retired_at: datetime | None
    replaced_by: Annotated[str | None, msgspec.Meta(examples=["MTR1-000011"])]  # the serial that took its place
    label_key_id: Annotated[str | None, msgspec.Meta(examples=["K1"])]  # the key its last issued label was signed with
    label_issued_at: datetime | None


class AdminAssetPage(msgspec.Struct, kw_only=True):
    items: list[AdminAssetView]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["TVRSMS0wMDAwMTA"])]


class LabelKeyView(msgspec.Struct, kw_only=True):
    key_id: Annotated[str, msgspec.Meta(examples=["K1"])]
    labels: Annotated[int, msgspec.Meta(examples=[1200])]  # assets whose last issued label it signed
    configured: Annotated[bool, msgspec.Meta(examples=[True])]  # in QR_KEYS: its labels still verify
    active: Annotated[bool, msgspec.Meta(examples=[False])]  # new labels are signed with it


class RetireAssetIn(WireRequest):
    reason: Reason


class SwapAssetIn(WireRequest):
    new_serial: Annotated[str, msgspec.Meta(max_length=40, pattern=LINE, examples=["MTR1-000011"])]
    reason: Reason
    reading: Annotated[float, msgspec.Meta(ge=-1e9, le=1e9, examples=[0.0])] | None = None  # the new one's, in kWh


class SwappedAssets(msgspec.Struct, kw_only=True):
    retired: AdminAssetView
    installed: AdminAssetView


def asset_view(entry: AssetEntry) -> AdminAssetView:
    a = entry.asset
    return AdminAssetView(
        serial=a.serial,
        asset_type=a.asset_type,
        status=a.status,
        ean=entry.ean,
        installed_at=a.installed_at,
        last_reading=a.last_reading,
        retired_at=a.retired_at,
        replaced_by=entry.replaced_by,
        label_key_id=a.label_key_id,
        label_issued_at=a.label_issued_at,
    )


def asset_page(rows: list[AssetEntry], limit: int) -> AdminAssetPage:
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].asset.serial) if len(rows) > limit else None
    return AdminAssetPage(items=[asset_view(e) for e in page], next_cursor=next_cursor)


def cursor_serial(text: str) -> str:
    """A cursor's serial (anything else is a forged cursor, 400)."""
    if not qr.SERIAL_PATTERN.fullmatch(text):
        raise ValueError("not a serial")
    return text


AssetTypeQuery = Annotated[
    str | None, QueryParameter(name="type", min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
]
KeyIdQuery = Annotated[str | None, Parameter(pattern=r"^[A-Z0-9]{1,8}$")]
Limit = Annotated[int, Parameter(ge=1, le=100)]


class AssetAdminController(Controller):
    path = "/admin/v1"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @post("/assets/{serial:str}/retire", operation_id="RetireAsset", status_code=HTTP_200_OK)
    async def retire(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        serial: FromPath[SerialPath],
        data: JSONBody[RetireAssetIn],
    ) -> AdminAssetView:
        """Retire an asset for good (from stock or off its connection); 409 when retired or in use."""
        retired = await asset_life.retire_asset(ctx, request.user, serial, data.reason)
        return asset_view((await asset_entries([retired]))[0])

    @post("/assets/{serial:str}/swap", operation_id="SwapAsset", status_code=HTTP_200_OK)
    async def swap(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        serial: FromPath[SerialPath],
        data: JSONBody[SwapAssetIn],
    ) -> SwappedAssets:
        """Replace an installed asset on its connection by one in stock: the old one retired, history kept."""
        swap = await asset_life.swap_asset(ctx, request.user, serial, data.new_serial, data.reading, data.reason)
        retired, installed = await asset_entries([swap.retired, swap.installed])
        return SwappedAssets(retired=asset_view(retired), installed=asset_view(installed))

    @get("/labels", operation_id="ListLabels")
    async def labels(
        self,
        request: Request[Principal, Any, Any],
        key_id: FromQuery[KeyId],
        limit: FromQuery[Limit] = 25,
        cursor: FromQuery[str | None] = None,
    ) -> AdminAssetPage:
        """The assets whose last issued label the key signed, by serial: what to reprint before retiring it."""
        after = decode_cursor(cursor, cursor_serial)[0] if cursor else None
        return asset_page(await search_assets(request.user, AssetSearch(key_id=key_id), limit + 1, after), limit)

    @get("/labels/keys", operation_id="ListLabelKeys")
    async def keys(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]
    ) -> list[LabelKeyView]:
        """Every QR key that signed a label or is configured, with its label count; retire one at 0."""
        return [
            LabelKeyView(key_id=k.key_id, labels=k.labels, configured=k.configured, active=k.active)
            for k in await label_keys(ctx, request.user)
        ]
