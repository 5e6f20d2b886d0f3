"""/admin/v1/connections: find connections, read one with its assets and audit trail, settle its owner."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK

from backend.admin.assets import AdminAssetView, asset_view
from backend.auth import requires_role
from backend.bounds import LINE, PROSE, WireRequest
from backend.cursor import decode_cursor, encode_cursor
from backend.installs import connection_admin as admin
from backend.installs.assets import asset_entries
from backend.installs.context import InstallContext
from backend.installs.ean import eighteen_digits
from backend.installs.records import ConnectionRec, EventRec
from backend.principal import Principal, Role

EanPath = Annotated[str, Parameter(pattern=r"^[0-9]{18}$")]
Owner = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE, examples=["cust-anna"])]


class AdminConnectionView(msgspec.Struct, kw_only=True):  # examples: documentation only
    ean: Annotated[str, msgspec.Meta(examples=["871687000000000054"])]
    street: Annotated[str, msgspec.Meta(examples=["Jansbinnensingel"])]
    house_number: Annotated[int, msgspec.Meta(examples=[14])]
    house_number_suffix: Annotated[str, msgspec.Meta(examples=[""])]
    postcode: Annotated[str, msgspec.Meta(examples=["6811AL"])]
    city: Annotated[str, msgspec.Meta(examples=["Arnhem"])]
    capacity: Annotated[str, msgspec.Meta(examples=["1x35A"])]
    owner: Annotated[str | None, msgspec.Meta(examples=["cust-anna"])]  # null: nobody's (never claimed, or released)


class AdminConnectionPage(msgspec.Struct, kw_only=True):
    items: list[AdminConnectionView]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["ODcxNjg3MDAwMDAwMDAwMDU0"])]


class TrailEvent(msgspec.Struct, kw_only=True):
    action: Annotated[str, msgspec.Meta(examples=["connection.claim-refused"])]
    actor: Annotated[str, msgspec.Meta(examples=["cust-bram"])]
    actor_role: Annotated[str, msgspec.Meta(examples=["customer"])]
    detail: Annotated[dict[str, Any], msgspec.Meta(examples=[{"ean": "871687000000000054"}])]
    at: datetime


class AdminConnectionDetail(msgspec.Struct, kw_only=True):
    connection: AdminConnectionView
    assets: list[AdminAssetView]  # every asset ever installed there, oldest first
    history: list[TrailEvent]  # claims (refused ones too), releases, re-assignments, asset changes; newest first


class SettleOwnerIn(WireRequest):
    """Who the connection belongs to from now on: a customer's subject, or null to release it."""

    owner: Owner | None
    expected_owner: Owner | None  # the owner as last read: a claim or release meanwhile is a 409
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=PROSE, examples=["Verhuisd per 1 mei"])]


def connection_view(c: ConnectionRec) -> AdminConnectionView:
    return AdminConnectionView(
        ean=c.ean,
        street=c.street,
        house_number=c.house_number,
        house_number_suffix=c.house_number_suffix,
        postcode=c.postcode,
        city=c.city,
        capacity=c.capacity,
        owner=c.owner_subject,
    )


def _trail(e: EventRec) -> TrailEvent:
    return TrailEvent(action=e.action, actor=e.actor, actor_role=e.actor_role, detail=e.detail, at=e.created_at)


class ConnectionAdminController(Controller):
    path = "/admin/v1/connections"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/", operation_id="SearchConnections")
    async def search(
        self,
        request: Request[Principal, Any, Any],
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 25,
        cursor: FromQuery[str | None] = None,
        ean: FromQuery[Annotated[str | None, Parameter(pattern=r"^[0-9]{18}$")]] = None,
        postcode: FromQuery[Annotated[str | None, Parameter(min_length=6, max_length=7, pattern=LINE)]] = None,
        house_number: FromQuery[Annotated[int | None, Parameter(ge=1, le=99_999)]] = None,
        owner: FromQuery[Annotated[str | None, Parameter(min_length=1, max_length=128, pattern=LINE)]] = None,
    ) -> AdminConnectionPage:
        """Connections by EAN, optionally by EAN, postcode (+ house number) or owner; by cursor."""
        after = decode_cursor(cursor, eighteen_digits)[0] if cursor else None
        search = admin.ConnectionSearch(ean=ean, postcode=postcode, house_number=house_number, owner=owner)
        rows = await admin.search_connections(request.user, search, limit + 1, after)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].ean) if len(rows) > limit else None
        return AdminConnectionPage(items=[connection_view(c) for c in page], next_cursor=next_cursor)

    @get("/{ean:str}", operation_id="GetConnection")
    async def get_one(self, request: Request[Principal, Any, Any], ean: FromPath[EanPath]) -> AdminConnectionDetail:
        """One connection with every asset installed there over time and its audit trail."""
        detail = await admin.connection_detail(request.user, ean)
        return AdminConnectionDetail(
            connection=connection_view(detail.connection),
            assets=[asset_view(a) for a in await asset_entries(detail.assets)],
            history=[_trail(e) for e in detail.history],
        )

    @post("/{ean:str}/owner", operation_id="SettleConnectionOwner", status_code=HTTP_200_OK)
    async def settle_owner(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        ean: FromPath[EanPath],
        data: JSONBody[SettleOwnerIn],
    ) -> AdminConnectionView:
        """Settle a disputed claim: hand the connection to a customer, or release it (owner null); audited."""
        settled = await admin.settle_owner(ctx, request.user, ean, data.owner, data.expected_owner, data.reason)
        return connection_view(settled)
