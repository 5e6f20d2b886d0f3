"""/admin/v1: load assets from the warehouse in batches, find them and print their labels."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.admin.assets import (
    AdminAssetPage,
    AssetTypeQuery,
    KeyIdQuery,
    Limit,
    SerialQuery,
    asset_page,
    cursor_serial,
)
from backend.auth import requires_role
from backend.batches import read_batch
from backend.cursor import decode_cursor
from backend.installs import qr
from backend.installs.assets import (
    ASSET_COLUMNS,
    INVALID_BATCH,
    AssetIn,
    AssetSearch,
    asset_rows,
    import_assets,
    issue_label,
    label_payload,
    search_assets,
)
from backend.installs.context import InstallContext
from backend.installs.enums import AssetStatus
from backend.openapi import answers, raw_body
from backend.openapi_schemas import json_schema
from backend.principal import Principal, Role

Serial = Annotated[str, Parameter(pattern=r"^[A-Z0-9][A-Z0-9-]{2,38}$")]


def batch_body(item: type[msgspec.Struct], columns: tuple[str, ...], csv_example: str, what: str) -> RequestBody:
    """A batch's request body, read by the handler itself (a CSV is no JSON): documented as both media types."""
    return RequestBody(
        description=f"A batch of at most 5 MB: a JSON list of {what}, or UTF-8 CSV with the header "
        f"`{','.join(columns)}` (an empty field is an absent one).",
        required=True,
        content={
            "application/json": OpenAPIMediaType(schema=json_schema(list[item])),  # type: ignore[valid-type]
            "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, examples=[csv_example])),
        },
    )


IMPORT_BODY = batch_body(AssetIn, ASSET_COLUMNS, "serial,asset_type\nMTR1-900001,smart_meter_1p\n", "assets")


class ImportedAssetView(msgspec.Struct, kw_only=True):  # examples: documentation only (backend/openapi_schemas.py)
    serial: Annotated[str, msgspec.Meta(examples=["MTR1-900001"])]
    asset_type: Annotated[str, msgspec.Meta(examples=["smart_meter_1p"])]
    status: Annotated[str, msgspec.Meta(examples=["in_stock"])]
    payload: Annotated[str, msgspec.Meta(examples=["SI1:K1:MTR1-900001:J4N7QK2MXHD3WZP5RTB6"])]
    created: Annotated[bool, msgspec.Meta(examples=[True])]


class ImportResult(msgspec.Struct, kw_only=True):
    created: Annotated[int, msgspec.Meta(examples=[1])]
    unchanged: Annotated[int, msgspec.Meta(examples=[0])]
    assets: list[ImportedAssetView]


class AdminController(Controller):
    path = "/admin/v1"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @post(
        "/assets",
        operation_id="ImportAssets",
        status_code=HTTP_201_CREATED,
        request_max_body_size=5 * 1024 * 1024,
        operation_class=raw_body(IMPORT_BODY),
    )
    async def import_assets(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]
    ) -> Response[ImportResult]:
        """Load a batch (JSON list or CSV `serial,asset_type`); all rows or none; returns each label payload."""
        items = read_batch(
            request.headers.get("content-type", ""), await request.body(), AssetIn, ASSET_COLUMNS, INVALID_BATCH
        )
        rows = asset_rows(items)
        imported = await import_assets(ctx, request.user, rows)
        created = sum(a.created for a in imported)
        result = ImportResult(
            created=created,
            unchanged=len(imported) - created,
            assets=[ImportedAssetView(**dataclasses.asdict(a)) for a in imported],
        )
        return Response(result, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/assets", operation_id="SearchAssets")
    async def search(
        self,
        request: Request[Principal, Any, Any],
        limit: FromQuery[Limit] = 25,
        cursor: FromQuery[str | None] = None,
        serial: FromQuery[SerialQuery] = None,
        asset_type: AssetTypeQuery = None,
        asset_state: Annotated[Literal["in_stock", "installed", "retired"] | None, QueryParameter(name="state")] = None,
        key_id: FromQuery[KeyIdQuery] = None,
    ) -> AdminAssetPage:
        """Assets by serial, optionally by serial, type, state or the QR key of their label; by cursor."""
        after = decode_cursor(cursor, cursor_serial)[0] if cursor else None
        status = None if asset_state is None else AssetStatus(asset_state)
        search = AssetSearch(serial=serial, asset_type=asset_type, status=status, key_id=key_id)
        return asset_page(await search_assets(request.user, search, limit + 1, after), limit)

    @get(
        "/assets/{serial:str}/label",
        operation_id="GetAssetLabel",
        opt=answers("image/png", "image/svg+xml"),
        responses={409: ResponseSpec(None, description="No label issued, or its key retired: issue one (POST).")},
    )
    async def label(
        self,
        ctx: NamedDependency[InstallContext],
        serial: FromPath[Serial],
        format: FromQuery[Literal["png", "svg"]] = "png",
    ) -> Response[bytes]:
        """The asset's issued QR label again as PNG or SVG, signed with its recorded key; reading writes nothing."""
        return _label(await label_payload(ctx, serial), serial, format)

    @post(
        "/assets/{serial:str}/label",
        operation_id="IssueAssetLabel",
        status_code=HTTP_200_OK,
        opt=answers("image/png", "image/svg+xml"),
    )
    async def issue_label(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        serial: FromPath[Serial],
        format: FromQuery[Literal["png", "svg"]] = "png",
    ) -> Response[bytes]:
        """Issue the asset's QR label (PNG or SVG) signed with the active key, recorded as its label key."""
        return _label(await issue_label(ctx, request.user, serial), serial, format)


def _label(payload: str, serial: str, format: str) -> Response[bytes]:
    if format == "svg":
        return Response(qr.render_svg(payload), media_type="image/svg+xml")
    return Response(qr.render_png(payload, serial), media_type="image/png")
