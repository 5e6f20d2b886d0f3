"""Deliver outbox events to webhooks: HMAC-signed, retried with exponential backoff, at least once.

Receivers deduplicate on the event id (header `X-Selfinstall-Event-Id`): a delivery that timed out
after the receiver stored it is sent again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import msgspec

from backend.events.tables import OutboxDelivery

log = logging.getLogger("selfinstall.events")
BATCH = 20
LOCK = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over "<timestamp>.<body>": the receiver recomputes it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour (the exponent is capped first: no overflow, ever)."""
    return min(timedelta(seconds=5 * 2 ** min(max(0, attempts - 1), 12)), MAX_BACKOFF)


async def _take(delivery_id: int, now: datetime) -> bool:
    """Lock one due delivery for this worker (compare-and-set, safe across processes)."""
    rows = (
        await OutboxDelivery.update({OutboxDelivery.locked_until: now + LOCK})
        .where(
            (OutboxDelivery.id == delivery_id)
            & OutboxDelivery.delivered_at.is_null()
            & (OutboxDelivery.next_attempt_at <= now)  # another worker may have just failed and rescheduled it
            & (OutboxDelivery.locked_until.is_null() | (OutboxDelivery.locked_until < now))
        )
        .returning(OutboxDelivery.id)
    )
    return bool(rows)


async def deliver_due(client: httpx.AsyncClient, secret: str, now: datetime) -> int:
    """Send every due delivery once; returns how many were delivered."""
    due = (
        await OutboxDelivery.select(
            OutboxDelivery.id,
            OutboxDelivery.url,
            OutboxDelivery.attempts,
            OutboxDelivery.event.id,
            OutboxDelivery.event.event_type,
            OutboxDelivery.event.payload,
            OutboxDelivery.event.created_at,
        )
        .where(
            OutboxDelivery.delivered_at.is_null()
            & (OutboxDelivery.next_attempt_at <= now)
            & (OutboxDelivery.locked_until.is_null() | (OutboxDelivery.locked_until < now))
        )
        .order_by(OutboxDelivery.next_attempt_at)
        .limit(BATCH)
        .output(load_json=True)
    )
    delivered = 0
    for row in due:
        if not await _take(row["id"], now):
            continue  # another worker took it
        event_id, event_type = str(row["event.id"]), row["event.event_type"]
        body = msgspec.json.encode(
            {"id": event_id, "type": event_type, "created_at": row["event.created_at"], "data": row["event.payload"]}
        )
        stamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Selfinstall-Event-Id": event_id,
            "X-Selfinstall-Event-Type": event_type,
            "X-Selfinstall-Timestamp": stamp,
            "X-Selfinstall-Signature": signature(secret, stamp, body),
        }
        error: str | None = None
        try:
            response = await client.post(row["url"], content=body, headers=headers)
            if response.status_code >= 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = row["attempts"] + 1
        if error is None:
            values = {
                OutboxDelivery.delivered_at: now,
                OutboxDelivery.attempts: attempts,
                OutboxDelivery.locked_until: None,
                OutboxDelivery.last_error: None,
            }
            delivered += 1
        else:
            log.warning("webhook delivery %s to %s failed: %s", event_id, row["url"], error)
            values = {
                OutboxDelivery.attempts: attempts,
                OutboxDelivery.next_attempt_at: now + backoff(attempts),
                OutboxDelivery.locked_until: None,
                OutboxDelivery.last_error: error[:500],
            }
        await OutboxDelivery.update(values).where(OutboxDelivery.id == row["id"])
    return delivered


async def run_forever(secret: str, interval_s: float, clock: Callable[[], datetime]) -> None:
    """The delivery loop started by the app's lifespan; a failing round is logged, never fatal."""
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            try:
                await deliver_due(client, secret, clock())
            except Exception:  # a database hiccup must not stop deliveries for good
                log.exception("outbox delivery round failed")
            await asyncio.sleep(interval_s)
