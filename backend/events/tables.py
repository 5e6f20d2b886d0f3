"""The transactional outbox: events are written in the transaction of the change they announce."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class OutboxEvent(Table, tablename="outbox_events"):
    """One domain event; its id is the idempotency key receivers deduplicate on."""

    id = UUID(primary_key=True)
    event_type = Varchar(length=40)
    payload = JSON(default={})
    created_at = Timestamptz()


class OutboxDelivery(Table, tablename="outbox_deliveries"):
    """One event to one webhook URL, retried with backoff until delivered."""

    event = ForeignKey(references=OutboxEvent, index=True)
    url = Varchar(length=500)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None, index=True)
    last_error = Text(null=True, default=None)
