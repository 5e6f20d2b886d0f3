"""Deliver outbox events to webhooks: CloudEvents 1.0 signed per Standard Webhooks, retried with
exponential backoff, at least once, and dead-lettered once failing past a maximum age.

The body is a CloudEvent in *structured* content mode (`application/cloudevents+json`: attributes and
data in one JSON document), so the Standard Webhooks signature, computed over the body, covers the
event's id, type, source and time too; in binary mode those would travel as unsigned `ce-*` headers.
`webhook-id` is the event id, the same on every retry and for every receiver: receivers deduplicate on
it (a delivery that timed out after the receiver stored it is sent again).
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from cloudevents.core.bindings.http import HTTPMessage, to_structured_event
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks import Webhook

from backend.events import repository as repo
from backend.events.targets import Resolver, pinned, public_address, system_resolver

log = logging.getLogger("selfinstall.events")
BATCH = 20
LOCK = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
SOURCE = "urn:selfinstall"  # the CloudEvents `source` of every event this service emits
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A subscription's signing secret as Standard Webhooks writes it: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signer(secret: str) -> Webhook:
    """A `whsec_...` secret is base64 of the key; any other (a WEBHOOK_SECRET of old) is the key's UTF-8
    bytes, which a receiver passes as `Webhook(secret.encode())`."""
    return Webhook(secret if secret.startswith(SECRET_PREFIX) else secret.encode())


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour (the exponent is capped first: no overflow, ever)."""
    return min(timedelta(seconds=5 * 2 ** min(max(0, attempts - 1), 12)), MAX_BACKOFF)


def envelope(event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> HTTPMessage:
    """The event as a structured-mode CloudEvent (JSON body); its subject is the install, else the connection (EAN)."""
    attributes = {
        "id": event_id,
        "source": SOURCE,
        "type": event_type,
        "time": created_at,
        "datacontenttype": "application/json",
    }
    subject = data.get("install_id") or data.get("ean")  # a connection's or asset's change: its connection
    if isinstance(subject, str):
        attributes["subject"] = subject
    return to_structured_event(CloudEvent(attributes=attributes, data=data))


def signed_headers(secret: str, event_id: str, now: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers: webhook-id, webhook-timestamp (the attempt's), webhook-signature."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer(secret).sign(event_id, now, body),
    }


async def deliver_due(
    client: httpx.AsyncClient,
    secret: str,
    clock: Callable[[], datetime],
    max_age: timedelta,
    *,
    development: bool,
    resolve: Resolver = system_resolver,
) -> int:
    """Send every due delivery once; returns how many were delivered. `secret` signs deliveries to
    WEBHOOK_URLS (a subscription's own signs its); a failure `max_age` after the event (or after an
    admin's retry) is the last: the delivery is dead. The clock is read afresh for each delivery: slow
    receivers make a round long, and a lock counted from its start could have run out when taken.
    Outside `development` a subscription's URL whose name resolves to a non-public address is not sent
    to: the attempt fails with the refusal (WEBHOOK_URLS are the operator's own, and may be internal);
    one that resolves to public addresses is sent to the address checked (`targets.pinned`)."""
    delivered = 0
    for row in await repo.due_deliveries(clock(), BATCH):
        now = clock()
        if not await repo.take_delivery(row["id"], now, LOCK):
            continue  # another worker took it
        event_id = str(row["event.id"])
        message = envelope(event_id, row["event.event_type"], row["event.created_at"], row["event.payload"])
        headers = {**message.headers, **signed_headers(row["secret"] or secret, event_id, now, message.body)}
        error: str | None = None
        url, extensions = row["url"], dict[str, Any]()
        if not development and row["secret"] is not None:  # an admin's subscription: a public address only
            address = await public_address(url, resolve)
            if isinstance(address, str):
                error = f"refused: {address}"
            else:
                url, host, extensions = pinned(url, address)
                headers |= host
        if error is None:
            try:
                response = await client.post(url, content=message.body, headers=headers, extensions=extensions)
                if response.status_code >= 300:
                    error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        attempts = row["attempts"] + 1
        now = clock()  # after the attempt, however long it took
        if error is None:
            await repo.mark_delivered(row["id"], attempts, now)
            delivered += 1
            continue
        dead = now - (row["retried_at"] or row["event.created_at"]) >= max_age
        log.warning("webhook delivery %s to %s failed%s: %s", event_id, row["url"], " for good" if dead else "", error)
        await repo.mark_failed(row["id"], attempts, now + backoff(attempts), error, now if dead else None)
    return delivered
