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

from backend.events import repository as repo

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


async def deliver_due(client: httpx.AsyncClient, secret: str, now: datetime) -> int:
    """Send every due delivery once; returns how many were delivered."""
    delivered = 0
    for row in await repo.due_deliveries(now, BATCH):
        if not await repo.take_delivery(row["id"], now, LOCK):
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
            await repo.mark_delivered(row["id"], attempts, now)
            delivered += 1
        else:
            log.warning("webhook delivery %s to %s failed: %s", event_id, row["url"], error)
            await repo.mark_failed(row["id"], attempts, now + backoff(attempts), error)
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
