"""What a customer can be told, and where a notification stands."""

from __future__ import annotations

import enum


class Moment(enum.StrEnum):
    """A moment worth a message; a customer may switch each off (their preferences)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    RETAKE_NEEDED = "retake_needed"
    INFO_REQUESTED = "info_requested"
    VISIT_PLANNED = "visit_planned"
    DEVICE_CONFIRMED = "device_confirmed"


class Errand(enum.StrEnum):
    """A message that answers what the customer just did, not a moment of an install: never switched off."""

    ADDRESS_CHECK = "address_check"  # "is this address yours?", to the address they typed


class Delivery(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # the channel accepted it
    SKIPPED = "skipped"  # not for sending: no address, unsubscribed, the moment switched off (`last_error` says)
    FAILED = "failed"  # refused for good (a bad address), or too old to be worth sending
