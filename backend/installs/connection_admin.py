"""Admins find connections, read their history and settle who a connection belongs to (a disputed claim)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import BadRequest, Conflict, Forbidden, NotFound
from backend.installs import repository as repo
from backend.installs.connections import refuse_while_open
from backend.installs.context import InstallContext
from backend.installs.ean import normalize_postcode
from backend.installs.records import AssetRec, ConnectionRec, EventRec
from backend.installs.service import record_change, transaction
from backend.principal import Principal, Role

HISTORY_LIMIT = 100  # a connection's trail on its page: claims, releases, re-assignments, swaps


def _require_admin(who: Principal) -> None:
    if who.role is not Role.ADMIN:
        raise Forbidden("auth/forbidden")


@dataclass(frozen=True, slots=True)
class ConnectionSearch:
    """What an admin searches connections by; every field narrows (AND)."""

    ean: str | None = None
    postcode: str | None = None
    house_number: int | None = None  # only with a postcode
    owner: str | None = None


async def search_connections(
    who: Principal, search: ConnectionSearch, limit: int, after_ean: str | None
) -> list[ConnectionRec]:
    """Connections matching the search, by EAN (keyset on the EAN). A house number alone is no search:
    400 `connection/search-needs-postcode` (it would read every connection)."""
    _require_admin(who)
    if search.house_number is not None and search.postcode is None:
        raise BadRequest("connection/search-needs-postcode")
    postcode = None if search.postcode is None else (normalize_postcode(search.postcode) or search.postcode)
    return await repo.search_connections(
        limit, after_ean, ean=search.ean, postcode=postcode, house_number=search.house_number, owner=search.owner
    )


@dataclass(frozen=True, slots=True)
class ConnectionDetail:
    connection: ConnectionRec
    assets: list[AssetRec]  # every asset ever installed there, oldest first (retired ones too)
    history: list[EventRec]  # the audit trail, newest first


async def connection_detail(who: Principal, ean: str) -> ConnectionDetail:
    """One connection with its assets over time and its audit trail."""
    _require_admin(who)
    connection = await repo.connection_by_ean(ean)
    if connection is None:
        raise NotFound("connection/not-found")
    return ConnectionDetail(
        connection=connection,
        assets=await repo.assets_on(connection.id),
        history=await repo.connection_events(connection.id, HISTORY_LIMIT),
    )


async def settle_owner(
    ctx: InstallContext, who: Principal, ean: str, owner: str | None, expected_owner: str | None, reason: str
) -> ConnectionRec:
    """Give the connection to `owner`, or release it (None), if it still belongs to `expected_owner` (what
    the admin saw: a claim or release meanwhile is a 409 `connection/owner-changed`). Refused like a
    release while an install there is undecided. Audited with the reason on the connection's trail."""
    _require_admin(who)
    async with transaction():
        connection = await repo.connection_by_ean(ean, for_update=True)  # no install starts meanwhile
        if connection is None:
            raise NotFound("connection/not-found")
        if connection.owner_subject != expected_owner:
            raise Conflict("connection/owner-changed", ean=ean)
        if owner != expected_owner:  # the same owner again (a retry) changes nothing
            await refuse_while_open(connection)
            if not await repo.set_connection_owner(connection.id, owner, expected_owner):
                raise Conflict("connection/owner-changed", ean=ean)
            if owner is None:
                action, facts = "connection.released", {"ean": ean, "customer_ref": expected_owner}
            else:
                action = "connection.reassigned"
                facts = {"ean": ean, "customer_ref": owner, "previous_customer_ref": expected_owner}
            await record_change(ctx, who, action, ctx.clock(), connection.id, facts, reason)
    settled = await repo.connection_by_id(connection.id)
    assert settled is not None
    return settled
