"""Every query of the outbox and its subscriptions. Callers own the transaction (enqueue runs in the change's own)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
from piccolo.query import Select

from backend.events.tables import OutboxDelivery, OutboxEvent, WebhookSubscription
from backend.installs.tables import Install

DeliveryState = Literal["failing", "dead"]


class InstallFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What other systems are told of an install beyond its own row: its connection, meter and customer."""

    ean: str
    serial: str | None
    installed_at: datetime | None
    customer_subject: str | None  # the install's customer (of its time: not the connection's owner after a move)


class SubscriptionRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    url: str
    event_types: list[str]
    created_by: str
    created_at: datetime


class DeliveryRec(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery as an admin sees it: where, which event, how it went."""

    id: int
    event_id: uuid.UUID
    event_type: str
    event_created_at: datetime
    subscription: int | None
    url: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    retried_at: datetime | None
    dead_at: datetime | None


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """The outbox at a glance: deliveries still to send (of which failing at least once) and dead ones."""

    pending: int
    failing: int
    dead: int
    oldest_pending_at: datetime | None  # the oldest undelivered event's time


async def install_facts(install_id: uuid.UUID) -> InstallFacts:
    """The install's EAN, scanned meter and customer: one joined query."""
    [row] = await Install.select(
        Install.connection.ean.as_alias("ean"),
        Install.asset.serial.as_alias("serial"),
        Install.asset.installed_at.as_alias("installed_at"),
        Install.customer_subject,
    ).where(Install.id == install_id)
    return InstallFacts(**row)


async def insert_event(
    event_id: uuid.UUID, event_type: str, payload: dict[str, Any], at: datetime, urls: tuple[str, ...]
) -> None:
    """The event, one pending delivery per configured URL and one per subscription asking for its type."""
    await OutboxEvent.insert(OutboxEvent(id=event_id, event_type=event_type, payload=payload, created_at=at))
    # Subscriptions are few (an admin registers each): filtered here, as JSON queries differ per engine.
    subscribed = await WebhookSubscription.select(
        WebhookSubscription.id, WebhookSubscription.url, WebhookSubscription.event_types
    ).output(load_json=True)
    rows = [OutboxDelivery(event=event_id, url=url, next_attempt_at=at) for url in urls]
    rows += [
        OutboxDelivery(event=event_id, subscription=s["id"], url=s["url"], next_attempt_at=at)
        for s in subscribed
        if not s["event_types"] or event_type in s["event_types"]
    ]
    if rows:
        await OutboxDelivery.insert(*rows)


def _due(now: datetime) -> Any:
    return (
        OutboxDelivery.delivered_at.is_null()
        & OutboxDelivery.dead_at.is_null()
        & (OutboxDelivery.next_attempt_at <= now)
        & (OutboxDelivery.locked_until.is_null() | (OutboxDelivery.locked_until < now))
    )


async def due_deliveries(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Deliveries whose time has come and that no worker holds, oldest first, with their event and the
    subscription's secret (None: a WEBHOOK_URLS receiver)."""
    return await (
        OutboxDelivery.select(
            OutboxDelivery.id,
            OutboxDelivery.url,
            OutboxDelivery.attempts,
            OutboxDelivery.retried_at,
            OutboxDelivery.subscription.secret.as_alias("secret"),
            OutboxDelivery.event.id,
            OutboxDelivery.event.event_type,
            OutboxDelivery.event.payload,
            OutboxDelivery.event.created_at,
        )
        .where(_due(now))
        .order_by(OutboxDelivery.next_attempt_at)
        .limit(limit)
        .output(load_json=True)
    )


async def take_delivery(delivery_id: int, now: datetime, lock: timedelta) -> bool:
    """Lock one delivery for this worker: a compare-and-set that re-checks it is still due, so a
    delivery another worker just failed and rescheduled is not sent again in the same round."""
    rows = await (
        OutboxDelivery.update({OutboxDelivery.locked_until: now + lock})
        .where((OutboxDelivery.id == delivery_id) & _due(now))
        .returning(OutboxDelivery.id)
    )
    return bool(rows)


async def mark_delivered(delivery_id: int, attempts: int, now: datetime) -> None:
    await OutboxDelivery.update(
        {
            OutboxDelivery.delivered_at: now,
            OutboxDelivery.attempts: attempts,
            OutboxDelivery.locked_until: None,
            OutboxDelivery.last_error: None,
        }
    ).where(OutboxDelivery.id == delivery_id)


async def mark_failed(
    delivery_id: int, attempts: int, retry_at: datetime, error: str, dead_at: datetime | None
) -> None:
    """A failed attempt: tried again at `retry_at`, or given up (`dead_at`)."""
    await OutboxDelivery.update(
        {
            OutboxDelivery.attempts: attempts,
            OutboxDelivery.next_attempt_at: retry_at,
            OutboxDelivery.locked_until: None,
            OutboxDelivery.last_error: error[:500],
            OutboxDelivery.dead_at: dead_at,
        }
    ).where(OutboxDelivery.id == delivery_id)


# --- what an admin sees and does (the API and the console) ------------------------------------------------

_DELIVERY_COLUMNS = (
    OutboxDelivery.id,
    OutboxDelivery.event.id.as_alias("event_id"),
    OutboxDelivery.event.event_type.as_alias("event_type"),
    OutboxDelivery.event.created_at.as_alias("event_created_at"),
    OutboxDelivery.subscription,
    OutboxDelivery.url,
    OutboxDelivery.attempts,
    OutboxDelivery.next_attempt_at,
    OutboxDelivery.delivered_at,
    OutboxDelivery.last_error,
    OutboxDelivery.retried_at,
    OutboxDelivery.dead_at,
)
_STATES = {  # each the filter of its partial index (the migration's outbox_deliveries_dead / _failing)
    "dead": OutboxDelivery.dead_at.is_not_null(),
    "failing": OutboxDelivery.delivered_at.is_null() & OutboxDelivery.dead_at.is_null() & (OutboxDelivery.attempts > 0),
}


async def deliveries_in(state: DeliveryState, limit: int, before_id: int | None) -> list[DeliveryRec]:
    """Failing or dead deliveries, newest first, by keyset on the id."""
    return [DeliveryRec(**r) for r in await deliveries_query(state, limit, before_id)]


def deliveries_query(state: DeliveryState, limit: int, before_id: int | None) -> Select:
    """The query of `deliveries_in` (tests/test_list_plans.py EXPLAINs it)."""
    where = _STATES[state]
    if before_id is not None:
        where = where & (OutboxDelivery.id < before_id)
    return (
        OutboxDelivery.select(*_DELIVERY_COLUMNS).where(where).order_by(OutboxDelivery.id, ascending=False).limit(limit)
    )


async def delivery_by_id(delivery_id: int) -> DeliveryRec | None:
    rows = await OutboxDelivery.select(*_DELIVERY_COLUMNS).where(OutboxDelivery.id == delivery_id)
    return DeliveryRec(**rows[0]) if rows else None


async def retry_delivery(delivery_id: int, now: datetime) -> bool:
    """Due again now with a fresh maximum age, if not delivered and no worker holds it (compare-and-set)."""
    rows = await (
        OutboxDelivery.update(
            {OutboxDelivery.next_attempt_at: now, OutboxDelivery.retried_at: now, OutboxDelivery.dead_at: None}
        )
        .where(
            (OutboxDelivery.id == delivery_id)
            & OutboxDelivery.delivered_at.is_null()
            & (OutboxDelivery.locked_until.is_null() | (OutboxDelivery.locked_until < now))
        )
        .returning(OutboxDelivery.id)
    )
    return bool(rows)


async def backlog() -> Backlog:
    """Counts of pending, failing and dead deliveries and the oldest pending event's time."""
    pending = OutboxDelivery.delivered_at.is_null() & OutboxDelivery.dead_at.is_null()
    oldest = await (
        OutboxDelivery.select(OutboxDelivery.event.created_at.as_alias("at"))
        .where(pending)
        .order_by(OutboxDelivery.event.created_at)
        .limit(1)
    )
    return Backlog(
        pending=await OutboxDelivery.count().where(pending),
        failing=await OutboxDelivery.count().where(_STATES["failing"]),
        dead=await OutboxDelivery.count().where(_STATES["dead"]),
        oldest_pending_at=oldest[0]["at"] if oldest else None,
    )


async def insert_subscription(url: str, event_types: list[str], secret: str, by: str, at: datetime) -> SubscriptionRec:
    row = WebhookSubscription(url=url, event_types=event_types, secret=secret, created_by=by, created_at=at)
    await row.save()
    return SubscriptionRec(id=row.id, url=url, event_types=event_types, created_by=by, created_at=at)


async def subscriptions(limit: int, after_id: int | None) -> list[SubscriptionRec]:
    """Subscriptions by id (keyset), without their secrets."""
    query = WebhookSubscription.select(exclude_secrets=True).order_by(WebhookSubscription.id).limit(limit)
    if after_id is not None:
        query = query.where(WebhookSubscription.id > after_id)
    return [SubscriptionRec(**r) for r in await query.output(load_json=True)]


async def delete_subscription(subscription_id: int) -> bool:
    """Remove it and its deliveries (pending ones are not sent any more); False if there was none."""
    await OutboxDelivery.delete().where(OutboxDelivery.subscription == subscription_id)
    rows = await (
        WebhookSubscription.delete().where(WebhookSubscription.id == subscription_id).returning(WebhookSubscription.id)
    )
    return bool(rows)
