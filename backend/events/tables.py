"""The transactional outbox: events are written in the transaction of the change they announce."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class OutboxEvent(Table, tablename="outbox_events"):
    """One domain event; its id is the idempotency key receivers deduplicate on."""

    id = UUID(primary_key=True)
    event_type = Varchar(length=40)
    payload = JSON(default={})
    created_at = Timestamptz()


class WebhookSubscription(Table, tablename="webhook_subscriptions"):
    """A receiver an admin registered: its URL, the event types it wants (none listed: all), its own secret."""

    url = Varchar(length=500)
    event_types = JSON(default=[])
    secret = Varchar(length=64, secret=True)  # whsec_<base64>: the Standard Webhooks signing key
    created_by = Varchar(length=128)
    created_at = Timestamptz()


class OutboxDelivery(Table, tablename="outbox_deliveries"):
    """One event to one webhook URL, retried with backoff until delivered, or dead once too old."""

    event = ForeignKey(references=OutboxEvent, index=True)
    # NULL: a receiver of WEBHOOK_URLS (signed with WEBHOOK_SECRET); deleting a subscription drops its deliveries.
    subscription = ForeignKey(references=WebhookSubscription, null=True, default=None, on_delete=OnDelete.cascade)
    url = Varchar(length=500)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None, index=True)
    last_error = Text(null=True, default=None)
    retried_at = Timestamptz(null=True, default=None)  # an admin's retry: the maximum age counts from here
    dead_at = Timestamptz(null=True, default=None)  # given up: failing past the maximum age (WEBHOOK_MAX_AGE_S)
