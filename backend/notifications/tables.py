"""The notification outbox and each customer's preferences. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Notification(Table, tablename="notifications"):
    """One message to one customer on one channel, written in the transaction of what it tells.

    UNIQUE (event, channel) (raw index in the migration): one event is told once per channel, however
    often the code that tells it runs. The id is the message's own (the e-mail's Message-ID), so a
    message sent again after a crash is recognisably the same one. Pending rows are read through a
    partial index on `next_attempt_at`."""

    id = UUID(primary_key=True)
    event = Varchar(length=200)
    channel = Varchar(length=16)
    moment = Varchar(length=32)  # enums.Moment
    install = UUID(null=True, default=None)
    subject = Varchar(length=128)  # the customer
    facts = JSON(default={})  # what the message says, beyond the moment (reasons in words, a time window)
    state = Varchar(length=16)  # enums.Delivery
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    locked_until = Timestamptz(null=True, default=None)
    recipient = Varchar(length=320, null=True, default=None)  # the address it went to, once sent
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz()


class NotificationPreference(Table, tablename="notification_preferences"):
    """A customer's choices. No row: e-mail to the address their identity provider gave, in Dutch,
    every moment."""

    subject = Varchar(length=128, unique=True)
    email = Varchar(length=320, null=True, default=None)  # set by the customer and checked; wins over the provider's
    # Typed by the customer, not used until they follow the link mailed to it (service.confirm_address).
    email_pending = Varchar(length=320, null=True, default=None)
    provider_email = Varchar(length=320, null=True, default=None)  # the token's `email` claim, last seen
    language = Varchar(length=2, default="nl")
    moments = JSON(default=[])  # the moments they want (enums.Moment values)
    email_enabled = Boolean(default=True)  # off: unsubscribed (the link, or their own choice)
    updated_at = Timestamptz()
