"""The channel interface: how a rendered message reaches a customer. E-mail is the one built
(backend/notifications/smtp.py); SMS or push is another class with these two members, registered in
`sender.channels_from`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from backend.notifications.repository import PreferenceRec


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message, ready for its channel."""

    id: uuid.UUID  # the notification's id: the same on every attempt (the e-mail's Message-ID)
    to: str  # the address in the channel's own terms
    language: str
    subject: str
    body: str
    unsubscribe_url: str | None  # None: not a message one unsubscribes from (an address check)


class TemporaryFailure(Exception):
    """Try again later: the server is away, busy, or answered 4xx."""


class PermanentFailure(Exception):
    """Trying again will not help: the address or the message was refused for good (5xx)."""


class Channel(Protocol):
    name: str  # stored with each notification: one row per (event, channel)

    def address(self, preference: PreferenceRec) -> str | None:
        """Where this customer is reached on this channel, or None (not reachable, or switched off)."""
        ...

    async def send(self, message: Outgoing) -> None:
        """Deliver it, or raise TemporaryFailure / PermanentFailure."""
        ...
