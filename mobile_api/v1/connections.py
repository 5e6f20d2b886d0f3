"""/mobile/v1/connections: a customer links their own connection."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth import requires_role
from backend.installs.connections import claim_connection
from backend.installs.context import InstallContext
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import connection_view


class ConnectionController(Controller):
    path = "/mobile/v1/connections"
    tags = ["connections"]
    guards = [requires_role(Role.CUSTOMER)]

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
