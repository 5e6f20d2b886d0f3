"""Shared steps of the notification tests: a customer's preferences, their install's notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import msgspec
from httpx import AsyncClient

from backend.auth import issue_token
from backend.notifications.repository import NotificationRec
from backend.notifications.sender import ADDRESS_PATH
from backend.notifications.tables import Notification
from backend.notifications.tokens import address_token
from backend.principal import Role
from backend.settings import DEV_UNSUBSCRIBE_SECRET, Settings
from tests.factories import Party

SETTINGS = "/mobile/v1/me/notifications"
EVERY_MOMENT = ["approved", "rejected", "retake_needed", "info_requested", "visit_planned", "device_confirmed"]


def with_email(settings: Settings, subject: str, email: str) -> dict[str, str]:
    """A customer's headers whose token carries an `email` claim, as an identity provider's would."""
    return {"Authorization": f"Bearer {issue_token(settings, subject, Role.CUSTOMER, timedelta(hours=1), email)}"}


def address() -> str:
    """An address no other test uses (example.com: reserved, never a real mailbox)."""
    return f"klant-{uuid.uuid4().hex[:10]}@example.com"


async def prefer(
    client: AsyncClient,
    who: Party,
    email: str | None,
    language: str = "nl",
    moments: list[str] | None = None,
    email_enabled: bool = True,
) -> dict[str, Any]:
    body = {
        "email": email,
        "language": language,
        "moments": EVERY_MOMENT if moments is None else moments,
        "email_enabled": email_enabled,
    }
    r = await client.put(SETTINGS, json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    if email is not None and r.json()["email_pending"] == email:
        await confirm(client, who.subject, email)
        r = await client.get(SETTINGS, headers=who.headers)
        assert r.json()["email"] == email, r.text
    return r.json()


def check_link(subject: str, email: str, asked_at: datetime | None = None) -> str:
    """The address check's link as the message carries it (the test app keeps the development secret)."""
    token = address_token(DEV_UNSUBSCRIBE_SECRET, subject, email, asked_at or datetime.now(UTC))
    return f"{ADDRESS_PATH}?token={token}"


async def confirm(client: AsyncClient, subject: str, email: str) -> None:
    """The customer follows the link mailed to a typed address (the page's button posts it)."""
    r = await client.post(check_link(subject, email))
    assert r.status_code == 200, r.text


async def told(install_id: str) -> list[NotificationRec]:
    """What an install's customer was (or will be) told, oldest first (tests only: no index serves it)."""
    rows = await (
        Notification.select()
        .where(Notification.install == uuid.UUID(install_id))
        .order_by(Notification.created_at)
        .output(load_json=True)
    )
    return [msgspec.convert(r, NotificationRec, strict=False) for r in rows]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # as received: SMTP lines end in CRLF
