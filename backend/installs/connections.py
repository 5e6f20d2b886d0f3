"""A customer links their own connection by proving they know its EAN, postcode and house number."""

from __future__ import annotations

import hmac
from datetime import timedelta

from backend.errors import Conflict, Forbidden, Invalid, TooManyRequests
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.ean import is_valid_ean18, normalize_postcode
from backend.installs.records import ConnectionRec
from backend.installs.service import record_event, transaction
from backend.principal import Principal, Role

# Compared against when the EAN is unknown, so a miss costs the same time as a wrong postcode.
_DUMMY_SECRET = "0000XX|0"


async def claim_connection(
    ctx: InstallContext, who: Principal, ean: str, postcode: str, house_number: int
) -> tuple[ConnectionRec, bool]:
    """Link the connection to the customer; (connection, newly_claimed)."""
    if who.role is not Role.CUSTOMER:
        raise Forbidden("auth/forbidden")
    if not is_valid_ean18(ean):
        raise Invalid("connection/invalid-ean", ean=ean)
    now = ctx.clock()
    window = timedelta(seconds=ctx.settings.claim_failure_window_s)
    failures, oldest = await repo.count_claim_failures(who.subject, now - window)
    if failures >= ctx.settings.claim_failures_allowed and oldest is not None:
        retry_after = max(1, int((oldest + window - now).total_seconds()))
        raise TooManyRequests("connection/claim-rate-limited", retry_after_s=retry_after)
    connection = await repo.connection_by_ean(ean)
    offered = f"{normalize_postcode(postcode) or ''}|{house_number}"
    expected = f"{connection.postcode}|{connection.house_number}" if connection else _DUMMY_SECRET
    matches = hmac.compare_digest(offered.encode(), expected.encode()) and connection is not None
    async with transaction():
        await repo.insert_claim_attempt(who.subject, matches, now)
        if matches and connection is not None:
            if connection.owner_subject not in (None, who.subject):
                await record_event(who, "connection.claim-refused", now, ean=ean)
            elif connection.owner_subject is None:
                await repo.set_connection_owner(connection.id, who.subject)
                await record_event(who, "connection.claimed", now, ean=ean)
    if not matches or connection is None:
        raise Invalid("connection/claim-mismatch")
    if connection.owner_subject not in (None, who.subject):
        raise Conflict("connection/already-claimed")
    claimed = await repo.connection_by_id(connection.id)
    assert claimed is not None
    return claimed, connection.owner_subject is None
