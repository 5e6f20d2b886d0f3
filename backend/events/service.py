"""What an admin does with webhooks: subscribe receivers, see failing and dead deliveries, retry one.

The console calls these too (the operator's outbox page): `failed_deliveries`, `retry_delivery`, `backlog`.
"""

from __future__ import annotations

from datetime import datetime

from backend.errors import Conflict, Invalid, NotFound
from backend.events import repository as repo
from backend.events.delivery import new_secret
from backend.events.outbox import EVENT_TYPES
from backend.events.repository import Backlog, DeliveryRec, DeliveryState, SubscriptionRec
from backend.events.targets import refusal
from backend.installs.service import record_event, transaction
from backend.principal import Principal


async def create_subscription(
    who: Principal, url: str, event_types: list[str], now: datetime, development: bool
) -> tuple[SubscriptionRec, str]:
    """A new receiver of the listed event types (none: every type) with its own secret, returned this once.
    Outside development only https to a name or a public address (backend/events/targets.py)."""
    if not development and refusal(url) is not None:
        raise Invalid("webhook/url-not-allowed", url=url)
    for event_type in event_types:
        if event_type not in EVENT_TYPES:
            raise Invalid("webhook/unknown-event-type", event_type=event_type, known=", ".join(sorted(EVENT_TYPES)))
    wanted = sorted(set(event_types))
    secret = new_secret()
    async with transaction():
        subscription = await repo.insert_subscription(url, wanted, secret, who.subject, now)
        await record_event(who, "webhook.subscribed", now, subscription=subscription.id, url=url, event_types=wanted)
    return subscription, secret


async def list_subscriptions(limit: int, after_id: int | None) -> list[SubscriptionRec]:
    """Subscriptions by id, secrets never shown again."""
    return await repo.subscriptions(limit, after_id)


async def delete_subscription(who: Principal, subscription_id: int, now: datetime) -> None:
    """Stop sending to it: the subscription and its deliveries, pending ones included, are gone."""
    async with transaction():
        if not await repo.delete_subscription(subscription_id):
            raise NotFound("webhook/not-found")
        await record_event(who, "webhook.unsubscribed", now, subscription=subscription_id)


async def failed_deliveries(state: DeliveryState, limit: int, before_id: int | None) -> list[DeliveryRec]:
    """Deliveries failing (still retried) or dead (given up), newest first; keyset on the id."""
    return await repo.deliveries_in(state, limit, before_id)


async def retry_delivery(who: Principal, delivery_id: int, now: datetime) -> DeliveryRec:
    """Send a failing or dead delivery again now, with a fresh maximum age."""
    async with transaction():
        if await repo.delivery_by_id(delivery_id) is None:
            raise NotFound("delivery/not-found")
        if not await repo.retry_delivery(delivery_id, now):
            raise Conflict("delivery/not-retryable")
        await record_event(who, "webhook.delivery-retried", now, delivery=delivery_id)
        retried = await repo.delivery_by_id(delivery_id)
    assert retried is not None  # found above, in this transaction
    return retried


async def backlog() -> Backlog:
    """The outbox's figures: pending, failing, dead, and the oldest pending event's time."""
    return await repo.backlog()
