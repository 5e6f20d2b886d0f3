"""A customer links their own connection by proving they know its EAN, postcode and house number."""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.ean import is_valid_ean18, normalize_postcode
from backend.installs.records import ConnectionRec, InstallRec
from backend.installs.service import record_change, record_event, transaction
from backend.principal import Principal, Role
from backend.settings import Settings
from backend.words import INSTALL_STATE_TEXT, stated

# Compared against when the EAN is unknown, so a miss costs the same time as a wrong postcode.
_DUMMY_SECRET = "0000XX|0"


def _retry_after_s(failures: list[datetime], allowed: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until fewer than `allowed` failures are left in the window; None while under it."""
    if len(failures) < allowed:
        return None
    frees_at = failures[len(failures) - allowed] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


async def _refuse_over_limits(settings: Settings, subject: str, ean: str, now: datetime) -> None:
    """429 when the caller, or all callers together on this EAN, failed too often in the window.

    A refused attempt is not evaluated and not recorded: it is no guess, and it does not push the
    window out. The per-connection limit counts every account's failures, so many accounts cannot
    add up to more guesses; while it holds, even the right answer is refused (a guess that could
    succeed is a guess), and the connection thaws a window after its failures."""
    window = timedelta(seconds=settings.claim_failure_window_s)
    waits = {
        "customer": _retry_after_s(
            await repo.claim_failures_by(subject, now - window), settings.claim_failures_allowed, window, now
        ),
        "connection": _retry_after_s(
            await repo.claim_failures_on(ean, now - window), settings.claim_failures_per_connection, window, now
        ),
    }
    over = {limit: wait for limit, wait in waits.items() if wait is not None}
    if over:
        limit = max(over, key=lambda name: over[name])
        raise TooManyRequests("connection/claim-rate-limited", extra={"limit": limit}, retry_after_s=over[limit])


async def claim_connection(
    ctx: InstallContext, who: Principal, ean: str, postcode: str, house_number: int
) -> tuple[ConnectionRec, bool]:
    """Link the connection to the customer; (connection, newly_claimed).

    The limits are checked, the answer compared and the attempt recorded in one write transaction
    that holds the caller's and the EAN's claim locks: concurrent guesses are counted one by one."""
    if who.role is not Role.CUSTOMER:
        raise Forbidden("auth/forbidden")
    if not is_valid_ean18(ean):
        raise Invalid("connection/invalid-ean", ean=ean)
    now = ctx.clock()
    async with transaction():
        await repo.lock_claims(who.subject, ean)
        await _refuse_over_limits(ctx.settings, who.subject, ean, now)
        connection = await repo.connection_by_ean(ean)
        offered = f"{normalize_postcode(postcode) or ''}|{house_number}"
        expected = f"{connection.postcode}|{connection.house_number}" if connection else _DUMMY_SECRET
        matches = hmac.compare_digest(offered.encode(), expected.encode()) and connection is not None
        await repo.insert_claim_attempt(who.subject, ean, matches, now)
        if matches and connection is not None:
            if connection.owner_subject not in (None, who.subject):  # on the connection's trail, for an admin
                await record_event(who, "connection.claim-refused", now, connection=connection.id, ean=ean)
            elif connection.owner_subject is None:
                # A released connection is claimed as a never-claimed one: the same proof, the same limits.
                await repo.set_connection_owner(connection.id, who.subject, None)
                facts = {"ean": ean, "customer_ref": who.subject}
                await record_change(ctx, who, "connection.claimed", now, connection.id, facts)
    # A failure is answered only once it is committed: its count holds even if the answer is lost.
    if not matches or connection is None:
        raise Invalid("connection/claim-mismatch")
    if connection.owner_subject not in (None, who.subject):
        raise Conflict("connection/already-claimed")
    claimed = await repo.connection_by_id(connection.id)
    assert claimed is not None
    return claimed, connection.owner_subject is None


@dataclass(frozen=True, slots=True)
class OwnedConnection:
    connection: ConnectionRec
    installable: tuple[str, ...]  # asset types the customer may install here themselves
    latest_install: InstallRec | None


async def owned_connections(
    ctx: InstallContext, who: Principal, limit: int, after_ean: str | None
) -> list[OwnedConnection]:
    """The customer's connections by EAN, each with what they may install there and its newest install."""
    if who.role is not Role.CUSTOMER:
        raise Forbidden("auth/forbidden")
    connections = await repo.connections_owned(who.subject, limit, after_ean)
    latest = await repo.latest_installs([c.id for c in connections], who.subject)
    return [
        OwnedConnection(c, ctx.catalog.installable(who.role.value, c.capacity), latest.get(c.id)) for c in connections
    ]


async def refuse_while_open(connection: ConnectionRec, occupants_only: bool = True) -> None:
    """409 while an install on the connection is undecided: a change of occupant waits for it (the customer
    cancels their own, a specialist decides one in review), rather than cancelling evidence being judged.
    `occupants_only`: only the present occupant's installs count (theirs, and installers' made in their
    time); a previous occupant's objection, back in review, does not hold the next one's move."""
    for install in await repo.open_installs_on(connection.id):
        if not occupants_only or install.customer_subject == connection.owner_subject:
            raise Conflict(
                "connection/open-install",
                ean=connection.ean,
                install_id=str(install.id),
                state=stated(INSTALL_STATE_TEXT, install.state),
            )


async def release_connection(ctx: InstallContext, who: Principal, ean: str) -> ConnectionRec:
    """The customer moves out: the connection is no longer theirs, so the next occupant can claim it with
    the same proof. Their installs stay theirs to see (never the next occupant's); no new one can start."""
    if who.role is not Role.CUSTOMER:
        raise Forbidden("auth/forbidden")
    async with transaction():
        connection = await repo.connection_by_ean(ean, for_update=True)  # no install starts meanwhile
        if connection is None or connection.owner_subject != who.subject:
            raise NotFound("connection/not-found")
        await refuse_while_open(connection)
        if not await repo.set_connection_owner(connection.id, None, who.subject):
            raise NotFound("connection/not-found")  # released or re-assigned meanwhile: no longer theirs
        facts = {"ean": ean, "customer_ref": who.subject}
        await record_change(ctx, who, "connection.released", ctx.clock(), connection.id, facts)
    released = await repo.connection_by_id(connection.id)
    assert released is not None
    return released
