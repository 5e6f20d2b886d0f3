"""Every query of the outbox. Callers own the transaction (enqueue runs in the change's own)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from backend.events.tables import OutboxDelivery, OutboxEvent


async def insert_event(
    event_id: uuid.UUID, event_type: str, payload: dict[str, Any], at: datetime, urls: tuple[str, ...]
) -> None:
    """The event and one pending delivery per webhook URL."""
    await OutboxEvent.insert(OutboxEvent(id=event_id, event_type=event_type, payload=payload, created_at=at))
    if urls:
        await OutboxDelivery.insert(*[OutboxDelivery(event=event_id, url=url, next_attempt_at=at) for url in urls])


def _due(now: datetime) -> Any:
    return (
        OutboxDelivery.delivered_at.is_null()
        & (OutboxDelivery.next_attempt_at <= now)
        & (OutboxDelivery.locked_until.is_null() | (OutboxDelivery.locked_until < now))
    )


async def due_deliveries(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Deliveries whose time has come and that no worker holds, oldest first, with their event."""
    return await (
        OutboxDelivery.select(
            OutboxDelivery.id,
            OutboxDelivery.url,
            OutboxDelivery.attempts,
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


async def mark_failed(delivery_id: int, attempts: int, retry_at: datetime, error: str) -> None:
    await OutboxDelivery.update(
        {
            OutboxDelivery.attempts: attempts,
            OutboxDelivery.next_attempt_at: retry_at,
            OutboxDelivery.locked_until: None,
            OutboxDelivery.last_error: error[:500],
        }
    ).where(OutboxDelivery.id == delivery_id)
