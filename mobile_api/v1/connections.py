"""/mobile/v1/connections: a customer's own connections, and linking one."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth import requires_role
from backend.cursor import decode_cursor, encode_cursor
from backend.installs.connections import claim_connection, owned_connections, release_connection
from backend.installs.context import InstallContext
from backend.installs.ean import eighteen_digits
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import connection_view, install_summary

EanPath = Annotated[str, Parameter(pattern=r"^[0-9]{18}$")]


class ConnectionController(Controller):
    path = "/mobile/v1/connections"
    tags = ["connections"]
    guards = [requires_role(Role.CUSTOMER)]

    @get("/", operation_id="ListConnections")
    async def list_connections(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> s.ConnectionPage:
        """The caller's connections by EAN, each with what they may install there and its newest install."""
        after = decode_cursor(cursor, eighteen_digits)[0] if cursor else None
        rows = await owned_connections(ctx, request.user, limit + 1, after)
        page = rows[:limit]
        return s.ConnectionPage(
            items=[
                s.OwnedConnectionView(
                    connection=connection_view(o.connection),
                    installable=list(o.installable),
                    latest_install=install_summary(o.latest_install) if o.latest_install else None,
                )
                for o in page
            ],
            next_cursor=encode_cursor(page[-1].connection.ean) if len(rows) > limit else None,
        )

    @post("/claim", operation_id="ClaimConnection", status_code=HTTP_201_CREATED)
    async def claim(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        data: JSONBody[s.ClaimConnection],
    ) -> Response[s.ClaimedConnection]:
        """Link a connection by its EAN, postcode and house number (201 new, 200 already yours)."""
        connection, new = await claim_connection(ctx, request.user, data.ean, data.postcode, data.house_number)
        return Response(
            s.ClaimedConnection(connection=connection_view(connection), newly_claimed=new),
            status_code=HTTP_201_CREATED if new else HTTP_200_OK,
        )

    @post("/{ean:str}/release", operation_id="ReleaseConnection", status_code=HTTP_200_OK)
    async def release(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], ean: FromPath[EanPath]
    ) -> s.ReleasedConnection:
        """Move out: the connection is no longer yours (your installs stay yours to see); 409 while one is open."""
        return s.ReleasedConnection(connection=connection_view(await release_connection(ctx, request.user, ean)))
